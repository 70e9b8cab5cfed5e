"""`expires_at` for items written before TTL was set on them (ops `retention backfill`, ops/backfill.py).

The people, medical, local codes, corrections and audit tables had no TTL before issue 21; their items written
since carry `expires_at`, older ones do not, and DynamoDB's TTL never deletes an item without it. Each table's
store says what expiry its writes give an item (`expires_for`), from the item's own times; this module finds the
items without one, a bounded page at a time, and sets it. A write that sets it meanwhile wins: the update is
conditional on the attribute still being absent. An item too old or too broken for its store to read is left as it
is and named to the caller: one such item must not stop the pass over millions.
"""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from chalicelib.store import audit, corrections, dynamo, localcodes, medical, people

# table kind -> (its key attributes, the expiry its writes give an item)
TABLES: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any], int], int]]] = {
    "people": (("pk",), people.expires_for),
    "medical": (("pk", "sk"), medical.expires_for),
    "localcodes": (("pk", "sk"), localcodes.expires_for),
    "corrections": (("pk",), corrections.expires_for),
    "audit": (("pk", "sk"), audit.expires_for),
}
MISSING = "attribute_not_exists(expires_at)"


def without_expiry(kind: str, segment: int, segments: int, limit: int, start: dict[str, Any] | None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of one Scan segment's items that carry no `expires_at` (`limit` items read, fewer returned)."""
    return dynamo.scan_page(kind, segment, segments, limit, start, MISSING)


class Outcome(Enum):
    GIVEN = "given"             # the item now has the expiry its table's writes would have given it
    HAD_ONE = "had_one"         # a write gave it one meanwhile, or it is gone: nothing to do
    UNREADABLE = "unreadable"   # its store cannot read it, so its expiry is unknown: left as it is


def key_of(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in TABLES[kind][0]}


def set_expiry(kind: str, item: dict[str, Any], now: int) -> Outcome:
    """Give the item the expiry its table's writes would have."""
    _, expires_for = TABLES[kind]
    try:
        expires_at = expires_for(item, now)
    except (KeyError, TypeError, ValueError):   # pydantic's ValidationError is a ValueError
        return Outcome.UNREADABLE
    try:
        dynamo.update(kind, key_of(kind, item), "SET expires_at = :e", {":e": expires_at},
                      condition=f"attribute_exists(pk) AND {MISSING}")
    except dynamo.ConditionFailed:
        return Outcome.HAD_ONE
    return Outcome.GIVEN
