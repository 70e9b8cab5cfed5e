"""The deliveries table: one item per (subscription, event), with every attempt."""
from __future__ import annotations

import zlib
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.store import dynamo
from chalicelib.store.pages import KeyShape

KIND = "deliveries"
SORT_KEY = identifiers.EVENT_ID   # a delivery is keyed by its subscription and its event
DUE_INDEX = "due"
SHARDS = 8
KEEP_SECONDS = 30 * 86400
MAX_LOG = 20


def pages(webhook_id: str) -> KeyShape:
    """The start keys a subscription's list of deliveries gives out."""
    return KeyShape("pk", webhook_id, {"sk": SORT_KEY})


def shard_of(webhook_id: str, event_id: str) -> str:
    return f"due#{zlib.crc32(f'{webhook_id}/{event_id}'.encode()) % SHARDS}"


def create(delivery: dict[str, Any]) -> bool:
    """False if this event was already fanned out to this subscription (a re-delivered stream record)."""
    try:
        dynamo.put(KIND, delivery, condition="attribute_not_exists(pk)")
        return True
    except dynamo.ConditionFailed:
        return False


def get(webhook_id: str, event_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": webhook_id, "sk": event_id}, consistent=True)


def claim(webhook_id: str, event_id: str, now: int, hold_seconds: int) -> dict[str, Any] | None:
    """Take the next attempt; None if it is not due, already delivered or dead, or claimed by another sender."""
    try:
        return dynamo.update(
            KIND, {"pk": webhook_id, "sk": event_id},
            "SET claimed_until = :hold, attempts = attempts + :one",
            {":hold": now + hold_seconds, ":one": 1, ":pending": "pending", ":now": now},
            condition="#s = :pending AND next_attempt_at <= :now AND claimed_until < :now",
            names={"#s": "status"})
    except dynamo.ConditionFailed:
        return None


def finish_attempt(webhook_id: str, event_id: str, attempt: dict[str, Any], status: str,
                   next_attempt_at: int | None) -> None:
    """Record an attempt's outcome: delivered, dead, or pending again at `next_attempt_at`."""
    values: dict[str, Any] = {":s": status, ":log": [attempt], ":empty": [], ":free": 0}
    expression = "SET #s = :s, attempt_log = list_append(if_not_exists(attempt_log, :empty), :log), claimed_until = :free"
    if next_attempt_at is not None:
        expression += ", next_attempt_at = :next, due_shard = :shard"
        values[":next"] = next_attempt_at
        values[":shard"] = shard_of(webhook_id, event_id)
    else:
        expression += " REMOVE due_shard"
    dynamo.update(KIND, {"pk": webhook_id, "sk": event_id}, expression, values, names={"#s": "status"})


def replay(webhook_id: str, event_id: str, now: int) -> dict[str, Any] | None:
    """Make a finished delivery pending again, with a fresh retry schedule; the attempt log keeps its
    last MAX_LOG entries so replays cannot grow the item without bound."""
    current = get(webhook_id, event_id)
    if current is None:
        return None
    try:
        return dynamo.update(
            KIND, {"pk": webhook_id, "sk": event_id},
            "SET #s = :pending, next_attempt_at = :now, due_shard = :shard, attempts = :zero, claimed_until = :zero, "
            "attempt_log = :log ADD replays :one",
            {":pending": "pending", ":now": now, ":shard": shard_of(webhook_id, event_id), ":zero": 0, ":one": 1,
             ":log": current.get("attempt_log", [])[-MAX_LOG:]},
            condition="attribute_exists(pk) AND #s <> :pending", names={"#s": "status"})
    except dynamo.ConditionFailed:
        return None


def due(shard: str, now: int) -> list[tuple[str, str]]:
    items = dynamo.query_all(KIND, "due_shard = :s AND next_attempt_at <= :now", {":s": shard, ":now": now},
                             index=DUE_INDEX)
    return [(i["pk"], i["sk"]) for i in items]


def page(webhook_id: str, limit: int, start: dict[str, Any] | None,
         status: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    options: dict[str, Any] = {}
    values: dict[str, Any] = {":w": webhook_id}
    if status:
        options = {"filter_expression": "#s = :s", "names": {"#s": "status"}}
        values[":s"] = status
    return dynamo.query(KIND, "pk = :w", values, forward=False, limit=limit, start=start, **options)


def dead() -> list[dict[str, Any]]:
    """Every dead delivery (ops): a filtered scan, as dead deliveries are few and this is not a request path."""
    return dynamo.scan_all(KIND, "#s = :d", {":d": "dead"}, {"#s": "status"})
