"""Types of the Cython module meshrt/venues/live/_levels.pyx (``Levels`` is the C-level
base of the live adapters' book sides, read through _levels.pxd)."""

class Levels:
    """Prices (times ``sign``, so ascending is best first) with their sizes."""

    def __init__(self, sign: int) -> None: ...
