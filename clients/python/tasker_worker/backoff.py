"""Exponential backoff with jitter, for when the server is away."""

from __future__ import annotations

import random
from typing import Callable, Optional


class Backoff:
    """Delays of ``base * factor**n``, capped at ``cap``, each drawn from its upper half.

    Jitter spreads out the workers that lost the server at the same moment, so they do not all
    come back at once; the lower half is left out so that a delay never collapses to nothing.
    A server's ``Retry-After`` wins over the schedule (with up to 10% added, for the same
    reason), but the count still grows, so a server that keeps saying "1 s" while it stays
    down does not get hit every second forever once the schedule passes that.
    """

    def __init__(
        self,
        base: float = 0.2,
        factor: float = 2.0,
        cap: float = 30.0,
        rand: Callable[[], float] = random.random,
    ):
        if base <= 0 or factor < 1 or cap < base:
            raise ValueError(f"Backoff: need base > 0, factor >= 1, cap >= base (got {base}, {factor}, {cap})")
        self.base = base
        self.factor = factor
        self.cap = cap
        self.failures = 0
        self._rand = rand

    def next(self, retry_after: Optional[float] = None) -> float:
        """The delay before the next try, after one more failure."""
        ceiling = min(self.cap, self.base * self.factor ** self.failures)
        self.failures += 1
        delay = ceiling / 2 + self._rand() * ceiling / 2
        if retry_after is not None and retry_after >= 0:
            delay = max(delay, retry_after + self._rand() * retry_after / 10)
        return delay

    def reset(self) -> None:
        self.failures = 0
