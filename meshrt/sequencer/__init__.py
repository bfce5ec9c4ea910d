"""The sequencer as components that each own their state; actor.py is the actor shell
that composes them (see its docstring for the map)."""
