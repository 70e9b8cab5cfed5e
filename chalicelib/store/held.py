"""What is kept about a person, item by item, as the citizen's own view and export show it (GET /v1/me/data).

Each store module that keeps a person's items lists them (`held(person)`), as it owns their key layout; an item
goes out as `Held`: its kind, when it was written or happened, when it expires, and its data without the
table's keys and index attributes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# attributes that only place an item in a table or index: never part of what is kept *about* someone
_PLACEMENT = frozenset({"pk", "sk", "due_day", "queue_key", "queue_sort", "dead_list", "due_shard", "city_shard",
                        "city_sort", "voyage", "held_until"})


@dataclass(frozen=True, slots=True)
class Held:
    kind: str                    # code, scans, trips, stays, checkins, medical_statuses, ...
    at: int                      # when it was written or happened
    expires_at: int | None       # its TTL
    data: Mapping[str, Any]


def held(kind: str, item: Mapping[str, Any], at_field: str, drop: Iterable[str] = ()) -> Held:
    """An item as held: `at_field` says when it was written or happened."""
    skip = _PLACEMENT | set(drop)
    expires = item.get("expires_at")
    at = item.get(at_field)
    return Held(kind, int(at) if at is not None else 0, int(expires) if expires is not None else None,
                {k: v for k, v in item.items() if k not in skip})
