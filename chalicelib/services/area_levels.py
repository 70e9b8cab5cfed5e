"""The area levels every read of a code joins with its stays (domain/stays.py), cached per container.

Only areas whose periods can still decide a stay are kept (a few thousand divisions at the very most),
one small item per province, so the whole country is one BatchGetItem (store/areas.levels). A container
reads it again when its copy is older than `area_levels_max_age` (5 s by default): a level change
reaches every read within that, plus the read itself, however many people stayed in the area.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from chalicelib import clock
from chalicelib.domain.colors import Reason
from chalicelib.domain.stays import live_reasons_of
from chalicelib.lazy import Lazy
from chalicelib.settings import get_settings
from chalicelib.store import areas, people

_lock = threading.Lock()
_levels: areas.Levels | None = None
_read_at = 0.0        # when the kept copy was read, by the platform clock: its age
_kept = 0             # the number of the read the kept copy came from
_started = 0          # reads started: a read finishing after a later one started is not kept
_generation = 0       # bumped by forget(), so a read that started before it is not kept
_pending: Future[areas.Levels] | None = None
# one reader thread, kept, so its kept-alive connection to DynamoDB is reused from one refresh to the next
_reader: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="area-levels"))


def _cached() -> areas.Levels | None:
    """The container's copy, if it is young enough."""
    levels = _levels
    if levels is not None and 0 <= clock.now_float() - _read_at < get_settings().area_levels_max_age:
        return levels
    return None   # too old, or read at a moment later than now (a clock set back)


def _read(hot: bool) -> areas.Levels:
    global _levels, _read_at, _kept, _started, _pending
    with _lock:
        _started += 1
        number, generation, started = _started, _generation, clock.now_float()
    try:
        found = areas.levels(hot=hot)
    except Exception:
        with _lock:
            _pending = None     # the next read tries again rather than waiting on this failure
        raise
    with _lock:
        # a slower, older read never replaces a newer one, nor one made after this container changed a level
        if number > _kept and generation == _generation:
            _levels, _read_at, _kept = found, started, number
        _pending = None
    return found


def current() -> areas.Levels:
    """The levels, read again first if the container's copy is too old."""
    cached = _cached()
    return cached if cached is not None else _read(hot=False)


def prefetch() -> Callable[[], areas.Levels]:
    """Start reading the levels now if the copy is too old, and return a function that waits for them.

    The verification overlaps this read with its own UpdateItem, so when the copy must be refreshed it
    still waits for one round trip, not two. Both go out without botocore (store/wire.py)."""
    global _pending
    with _lock:
        cached = _cached()
        if cached is not None:
            return lambda: cached
        if _pending is None:
            _pending = _reader.get().submit(_read, True)
        pending = _pending
    return pending.result


def forget() -> None:
    """This container just changed a level: its next read must not use the copy from before."""
    global _levels, _generation
    with _lock:
        _levels, _generation = None, _generation + 1


def live_reasons(code: people.Code, now: int, levels: areas.Levels | None = None) -> list[Reason]:
    """Every reason of a stored code as of now, its stays joined with the levels (the cached ones unless given)."""
    return live_reasons_of(code.sources, code.facts, current() if levels is None else levels, now)
