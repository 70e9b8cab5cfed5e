"""Fixed-window counters of the abuse limits (chalicelib/domain/limits.py): one item per limit, key and window.

The item is `pk = <limit>#<key>#<window start>`, `hits`, and `expires_at` two windows on, when TTL may
delete it; nothing reads a counter after its window, so TTL's lag costs only storage.
"""
from __future__ import annotations

from chalicelib.store import dynamo

KIND = "ratelimits"
_ADD = "ADD hits :n SET expires_at = :exp"


def _key(limit: str, key: str, window_start: int) -> dict[str, str]:
    return {"pk": f"{limit}#{key}#{window_start}"}


def take(limit: str, key: str, window_start: int, window: int, amount: int, most: int) -> bool:
    """Count `amount` in the window if that keeps it at `most` or under; False (and nothing counted) if not,
    so a refused batch does not use up what a smaller one could still have."""
    try:
        dynamo.update(KIND, _key(limit, key, window_start), _ADD,
                      {":n": amount, ":exp": window_start + 2 * window, ":room": most - amount},
                      condition="attribute_not_exists(hits) OR hits <= :room")
    except dynamo.ConditionFailed:
        return False
    return True


def add(limit: str, key: str, window_start: int, window: int, amount: int) -> int:
    """Count `amount` in the window unconditionally and return the window's total, without botocore
    (store/wire.py): the verify function writes its container's counts with it."""
    item = dynamo.update(KIND, _key(limit, key, window_start), _ADD,
                         {":n": amount, ":exp": window_start + 2 * window}, hot=True)
    return int(item["hits"]) if item else amount
