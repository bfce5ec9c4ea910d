"""xoshiro256** seeded by splitmix64: the synthetic source's generator, in plain Python.

A generator with a published specification (Blackman and Vigna,
https://prng.di.unimi.it/: ``xoshiro256starstar.c`` and ``splitmix64.c``), so a seeded
synthetic run means the same thing on any platform and in any language. This module is
the readable reference; meshrt/venues/_synthetic.pyx inlines the same arithmetic in C
and tests/test_rng.py checks that the two give the same stream.

- Seeding: the 64-bit seed (two's complement for a negative one) is splitmix64's state;
  its first four outputs are the generator's state ``s[0..3]``.
- ``next64``: one xoshiro256** output, a uniform 64-bit word.
- ``random``: a float in [0, 1), the top 53 bits scaled: ``(next64 >> 11) * 2**-53``.
- ``bit``: the top bit of one output (the high bits are the strongest).
- ``below(n)``: a uniform integer in [0, n) by Lemire's multiply-shift with rejection
  (D. Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 2019): the
  high word of ``next64 * n``, drawing again only while the low word falls below
  ``2**64 mod n``; exact, and almost always one output.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15  # splitmix64's increment


def splitmix64(state: int) -> tuple[int, int]:
    """One splitmix64 step: ``(next state, output)``."""
    state = (state + GOLDEN_GAMMA) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def seed_state(seed: int) -> tuple[int, int, int, int]:
    """The xoshiro256** state a 64-bit seed gives: splitmix64's first four outputs."""
    x = seed & MASK64
    words = []
    for _ in range(4):
        x, word = splitmix64(x)
        words.append(word)
    return (words[0], words[1], words[2], words[3])


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256:
    """The generator; ``state`` is the four 64-bit words, enough to continue the stream."""

    __slots__ = ("s",)

    def __init__(self, state: tuple[int, int, int, int]) -> None:
        if len(state) != 4 or not all(0 <= w <= MASK64 for w in state) or not any(state):
            raise ValueError("a xoshiro256** state is four 64-bit words, not all zero")
        self.s = list(state)

    @classmethod
    def seeded(cls, seed: int) -> Xoshiro256:
        return cls(seed_state(seed))

    @property
    def state(self) -> tuple[int, int, int, int]:
        return (self.s[0], self.s[1], self.s[2], self.s[3])

    def next64(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def random(self) -> float:
        return (self.next64() >> 11) * 2.0**-53

    def bit(self) -> int:
        return self.next64() >> 63

    def below(self, n: int) -> int:
        if not 0 < n <= MASK64:
            raise ValueError(f"below(n) needs 0 < n < 2**64, got {n}")
        product = self.next64() * n
        if product & MASK64 < n:
            threshold = (1 << 64) % n
            while product & MASK64 < threshold:
                product = self.next64() * n
        return product >> 64
