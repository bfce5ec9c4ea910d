# The instance's step at C level, for the window driver (meshrt/sequencer/_window.pyx).

cpdef bint step(object instance, list batch) except -1
