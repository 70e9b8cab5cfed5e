"""The one way a request is counted against an abuse limit (chalicelib/domain/limits.py; docs/limits.md).

`check` counts in the ratelimits table: one conditional UpdateItem per counted request, and a 429 with
Retry-After (nothing counted) once the window's count would pass the limit.

`check_sampled` is for the verify hot path, which must stay one DynamoDB round trip: the container counts
a client's requests itself and refuses once its own view of the window is spent; every `flush_every`
requests it adds its count to the table in the background and reads the total back, so the other
containers' counts reach it too. The write overlaps the verification's own call (the caller waits for
both), so no request waits for two round trips. Across containers, a window lets through at most the
limit plus `flush_every` for each container that served the client in it, plus `flush_every`: a
container learns of the others' counts at its next write, at most `flush_every` requests later.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.domain.limits import Limit, Per
from chalicelib.errors import TooManyRequests
from chalicelib.lazy import Lazy
from chalicelib.security import pseudonyms
from chalicelib.store import ratelimits

log = logging.getLogger("healthcode.limits")


def refusal(limit: Limit, now: int) -> TooManyRequests:
    wait = limit.retry_after(now)
    said = limit.describe()
    return TooManyRequests(f"{said[0].upper()}{said[1:]}; try again in {wait} s.", wait, details=[{
        "limit": limit.name, "per": limit.per.name.lower(), "count": limit.count, "window_seconds": limit.window,
        "retry_after": wait}])


def _stored(limit: Limit, key: str) -> str:
    return pseudonyms.address_ref(key) if limit.per is Per.ADDRESS else key


def check(limit: Limit, key: str, amount: int = 1) -> None:
    """Count `amount` (requests, or a batch's records) against the limit for `key`; TooManyRequests if it
    would pass it."""
    now = clock.now()
    if not ratelimits.take(limit.name, _stored(limit, key), limit.window_start(now), limit.window, amount,
                           limit.count):
        raise refusal(limit, now)


@dataclass
class _Window:
    start: int
    known: int = 0        # the table's total for the window when this container last wrote to it
    writing: int = 0      # counted here and being written now
    unwritten: int = 0    # counted here since


_lock = threading.Lock()
_windows: dict[tuple[str, str], _Window] = {}
_MAX_WINDOWS = 4096       # keys (checkpoint clients) one container keeps; a container sees a handful
# one writer thread, kept, so its kept-alive connection to DynamoDB is reused from one write to the next
_writer: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="limits"))


def _nothing() -> None:
    return None


def check_sampled(limit: Limit, key: str) -> Callable[[], None]:
    """Count one request in this container; TooManyRequests once the window is spent as far as the
    container knows. Returns a function that waits for the table write this request started, if any:
    call it after the request's own DynamoDB call."""
    now = clock.now()
    start = limit.window_start(now)
    with _lock:
        window = _windows.get((limit.name, key))
        if window is None or window.start != start:
            if len(_windows) >= _MAX_WINDOWS:
                _windows.clear()
            window = _windows[(limit.name, key)] = _Window(start)
        if window.known + window.writing + window.unwritten >= limit.count:
            raise refusal(limit, now)
        window.unwritten += 1
        if window.unwritten < limit.flush_every or window.writing:
            return _nothing
        window.writing, window.unwritten = window.unwritten, 0
        pending = _writer.get().submit(_write, limit, key, window, window.writing)
    return pending.result


def _write(limit: Limit, key: str, window: _Window, amount: int) -> None:
    try:
        total = ratelimits.add(limit.name, key, window.start, limit.window, amount)
    except Exception as exc:  # a gate must keep scanning: the container keeps its count and writes it later
        log.warning("could not write a limit's count", extra={"limit": limit.name, "error_code": type(exc).__name__})
        with _lock:
            window.unwritten += amount
            window.writing = 0
        return
    with _lock:
        window.known = max(window.known, total)
        window.writing = 0


def forget() -> None:
    """Drop this container's counts, as a new container starts (tests)."""
    with _lock:
        _windows.clear()
