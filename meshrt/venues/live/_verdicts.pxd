# Feed values built in C, for the compiled book rules (_kraken_rule.pyx, _coinbase_rule.pyx).

cdef object feed(object symbol, tuple events)
