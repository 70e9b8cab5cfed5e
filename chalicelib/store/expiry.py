"""`expires_at` for items written before TTL was set on them (ops `retention backfill`, ops/backfill.py).

The people, medical, local codes, corrections and audit tables had no TTL before issue 21; their items written
since carry `expires_at`, older ones do not, and DynamoDB's TTL never deletes an item without it. Each table's
store says what expiry its writes give an item (`expires_for`), from the item's own times; this module finds the
items without one, a bounded page at a time, and sets it. A write that sets it meanwhile wins: the update is
conditional on the attribute still being absent.
"""
from __future__ import annotations

from collections.abc import Callable
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


def set_expiry(kind: str, item: dict[str, Any], now: int) -> bool:
    """Give the item the expiry its table's writes would have; False if it has one by now, or is gone."""
    keys, expires_for = TABLES[kind]
    try:
        dynamo.update(kind, {k: item[k] for k in keys}, "SET expires_at = :e", {":e": expires_for(item, now)},
                      condition=f"attribute_exists(pk) AND {MISSING}")
    except dynamo.ConditionFailed:
        return False
    return True
