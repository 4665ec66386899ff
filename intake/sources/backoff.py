"""Capped exponential backoff with jitter, for reconnecting to a mail server.

Jitter spreads the retries of several workers (or several restarts) that lost the same
server at the same moment, so they do not all knock again in the same second.
"""

from __future__ import annotations

import random

# 2**60 seconds is far beyond any sensible cap; the exponent is clamped so that a long
# outage with many attempts cannot overflow a float.
_MAX_EXPONENT = 60


def backoff_delay(attempt: int, *, base: float, cap: float, rand: float) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    The ceiling doubles from `base` up to `cap`; the delay is half the ceiling plus a
    random share (`rand` in [0, 1)) of the other half ("equal jitter"), so a retry never
    comes sooner than half the ceiling but two clients rarely retry in step.
    """
    if attempt < 0:
        raise ValueError("attempt must be 0 or more")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    if not 0.0 <= rand <= 1.0:
        raise ValueError("rand must be between 0 and 1")
    ceiling = min(cap, base * 2.0 ** min(attempt, _MAX_EXPONENT))
    return ceiling / 2 + ceiling / 2 * rand


class Backoff:
    """Successive delays for one run of retries; `reset()` after a success."""

    def __init__(
        self, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
    ) -> None:
        backoff_delay(0, base=base, cap=cap, rand=0.0)  # validate early, not at first failure
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next retry; each call counts one attempt."""
        delay = backoff_delay(self.attempt, base=self.base, cap=self.cap, rand=self._rng.random())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Start again from the shortest delay."""
        self.attempt = 0
