"""Types of the Cython module meshrt/venues/live/_verdicts.pyx: nothing Python-visible
(its ``feed`` is for the compiled book rules, through _verdicts.pxd)."""
