"""The deliveries table: one item per (subscription, event), with every attempt.

A delivery is `pk = <webhook id>`, `sk = <event id>`; while it is pending it is also in the `due` index, under
one of SHARDS keys `due#<n>` (so that no key is hot), sorted by its next attempt.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import identifiers
from chalicelib.store import dynamo
from chalicelib.store.pages import Key, KeyShape

KIND = "deliveries"
SORT_KEY = identifiers.EVENT_ID   # a delivery is keyed by its subscription and its event
DUE_INDEX = "due"
SHARDS = 8
KEEP_SECONDS = 30 * 86400
MAX_LOG = 20
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Attempt:
    at: int
    attempt: int                 # how many attempts came before it
    status_code: int | None      # the receiver's answer, if there was one
    latency_ms: float
    retry_after: int | None      # seconds the receiver asked us to wait
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "attempt": self.attempt, "status_code": self.status_code,
                "latency_ms": self.latency_ms, "retry_after": self.retry_after, "error": self.error}


@dataclass(frozen=True, slots=True)
class Delivery:
    webhook_id: str
    event_id: str                # also the webhook-id header, the same on every attempt
    event_type: str
    province: str
    body: str                    # the JSON sent, rendered once for this subscription
    status: str                  # pending | delivered | dead
    attempts: int
    claimed_until: int           # a sender holds it until then
    next_attempt_at: int | None
    created_at: int
    attempt_log: tuple[Attempt, ...] = ()   # the last MAX_LOG after a replay
    replays: int = 0


def _attempt(entry: dict[str, Any]) -> Attempt:
    return Attempt(int(entry["at"]), int(entry.get("attempt", 0)), entry.get("status_code"),
                   entry.get("latency_ms", 0), entry.get("retry_after"), entry.get("error"))


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(item["pk"], item["sk"], item["event_type"], item.get("province", ""), item.get("body", ""),
                    item["status"], int(item.get("attempts", 0)), int(item.get("claimed_until", 0)),
                    item.get("next_attempt_at"), int(item["created_at"]),
                    tuple(_attempt(a) for a in item.get("attempt_log") or ()), int(item.get("replays", 0)))


def _key(webhook_id: str, event_id: str) -> dict[str, str]:
    return {"pk": webhook_id, "sk": event_id}


def pages(webhook_id: str) -> KeyShape:
    """The start keys a subscription's list of deliveries gives out."""
    return KeyShape("pk", webhook_id, {"sk": SORT_KEY})


def _shard_of(webhook_id: str, event_id: str) -> str:
    return f"due#{zlib.crc32(f'{webhook_id}/{event_id}'.encode()) % SHARDS}"


def create(webhook_id: str, event_id: str, event_type: str, province: str, body: str, now: int) -> bool:
    """A new pending delivery, due now. False if this event was already fanned out to this subscription (a
    re-delivered stream record)."""
    item = {**_key(webhook_id, event_id), "event_type": event_type, "province": province, "body": body,
            "status": PENDING, "attempts": 0, "claimed_until": 0, "next_attempt_at": now,
            "due_shard": _shard_of(webhook_id, event_id), "created_at": now, "expires_at": now + KEEP_SECONDS}
    try:
        dynamo.put(KIND, item, condition="attribute_not_exists(pk)")
        return True
    except dynamo.ConditionFailed:
        return False


def get(webhook_id: str, event_id: str) -> Delivery | None:
    item = dynamo.get(KIND, _key(webhook_id, event_id), consistent=True)
    return _delivery(item) if item is not None else None


def claim(webhook_id: str, event_id: str, now: int, hold_seconds: int) -> Delivery | None:
    """Take the next attempt; None if it is not due, already delivered or dead, or claimed by another sender."""
    try:
        item = dynamo.update(
            KIND, _key(webhook_id, event_id),
            "SET claimed_until = :hold, attempts = attempts + :one",
            {":hold": now + hold_seconds, ":one": 1, ":pending": PENDING, ":now": now},
            condition="#s = :pending AND next_attempt_at <= :now AND claimed_until < :now",
            names={"#s": "status"})
    except dynamo.ConditionFailed:
        return None
    return _delivery(item) if item is not None else None


def finish_attempt(webhook_id: str, event_id: str, attempt: Attempt, status: str,
                   next_attempt_at: int | None) -> None:
    """Record an attempt's outcome: delivered, dead, or pending again at `next_attempt_at`."""
    values: dict[str, Any] = {":s": status, ":log": [attempt.to_dict()], ":empty": [], ":free": 0}
    expression = ("SET #s = :s, attempt_log = list_append(if_not_exists(attempt_log, :empty), :log), "
                  "claimed_until = :free")
    if next_attempt_at is not None:
        expression += ", next_attempt_at = :next, due_shard = :shard"
        values[":next"] = next_attempt_at
        values[":shard"] = _shard_of(webhook_id, event_id)
    else:
        expression += " REMOVE due_shard"
    dynamo.update(KIND, _key(webhook_id, event_id), expression, values, names={"#s": "status"})


def replay(webhook_id: str, event_id: str, now: int) -> Delivery | None:
    """Make a finished delivery pending again, with a fresh retry schedule; the attempt log keeps its
    last MAX_LOG entries so replays cannot grow the item without bound."""
    current = get(webhook_id, event_id)
    if current is None:
        return None
    try:
        item = dynamo.update(
            KIND, _key(webhook_id, event_id),
            "SET #s = :pending, next_attempt_at = :now, due_shard = :shard, attempts = :zero, claimed_until = :zero, "
            "attempt_log = :log ADD replays :one",
            {":pending": PENDING, ":now": now, ":shard": _shard_of(webhook_id, event_id), ":zero": 0, ":one": 1,
             ":log": [a.to_dict() for a in current.attempt_log[-MAX_LOG:]]},
            condition="attribute_exists(pk) AND #s <> :pending", names={"#s": "status"})
    except dynamo.ConditionFailed:
        return None
    return _delivery(item) if item is not None else None


def due(now: int) -> list[tuple[str, str]]:
    """(webhook id, event id) of every pending delivery whose next attempt is due by now."""
    found: list[tuple[str, str]] = []
    for shard in range(SHARDS):
        items = dynamo.query_all(KIND, "due_shard = :s AND next_attempt_at <= :now",
                                 {":s": f"due#{shard}", ":now": now}, index=DUE_INDEX)
        found += [(i["pk"], i["sk"]) for i in items]
    return found


def page(webhook_id: str, limit: int, start: Key | None,
         status: str | None = None) -> tuple[list[Delivery], Key | None]:
    options: dict[str, Any] = {}
    values: dict[str, Any] = {":w": webhook_id}
    if status:
        options = {"filter_expression": "#s = :s", "names": {"#s": "status"}}
        values[":s"] = status
    items, last = dynamo.query(KIND, "pk = :w", values, forward=False, limit=limit, start=start, **options)
    return [_delivery(i) for i in items], last


def dead() -> list[Delivery]:
    """Every dead delivery (ops): a filtered scan, as dead deliveries are few and this is not a request path."""
    return [_delivery(i) for i in dynamo.scan_all(KIND, "#s = :d", {":d": "dead"}, {"#s": "status"})]
