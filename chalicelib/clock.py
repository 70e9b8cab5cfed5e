"""The platform's notion of now, in one place so tests can move it (e.g. 14 days on)."""
from __future__ import annotations

import time

_offset = 0.0


def now() -> int:
    return int(time.time() + _offset)


def now_float() -> float:
    return time.time() + _offset


def shift(seconds: float) -> None:
    """Move the clock forward (tests only: a trip's window closing, a token expiring)."""
    global _offset
    _offset += seconds


def reset() -> None:
    global _offset
    _offset = 0.0
