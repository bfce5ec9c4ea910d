"""Types of the Cython module meshrt/sequencer/transitions.pyx: its one function,
``apply``, is C-level only (the state machine, meshrt/sequencer/orders.pyx, calls it)."""
