"""The ``meshrt`` command: main.py parses the command line and dispatches each
subcommand; read_commands.py (trace, tca) and toolchain_commands.py (build, init) add
their subcommands; argtypes.py holds the argument types and the one bad-input exit."""
