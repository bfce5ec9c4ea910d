"""The ``meshrt`` command: main.py parses the command line and dispatches each
subcommand; argtypes.py holds the argument types and the one bad-input exit."""
