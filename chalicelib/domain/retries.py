"""The published webhook retry schedule (docs/webhooks.md), after Standard Webhooks' recommendation."""
from __future__ import annotations

import random

# seconds after the previous attempt; the first attempt is made at once by the stream handler
SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(SCHEDULE) + 1
MAX_RETRY_AFTER = 24 * 3600


def next_attempt(attempts_made: int, now: int, retry_after: int | None = None,
                 rng: random.Random | None = None) -> int | None:
    """When to try again after `attempts_made` failures; None once the last attempt has failed.

    Up to 20% jitter spreads a receiver's recovery load; a Retry-After the
    receiver asked for is honoured when it is longer than the schedule.
    """
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made - 1]
    delay = base + int(base * 0.2 * (rng or random).random())
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + delay
