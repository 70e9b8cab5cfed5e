"""The events table: an outbox written in the same transaction as the change it reports.

An event is `pk = evt_<milliseconds><random>` (time-ordered, so an event id also tells when it happened),
its type, data and the person it is about (`subject`), if any. The table's stream hands each new event to
the events function (events/handlers.py).
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import clock
from chalicelib.store import dynamo

KIND = "events"
KEEP_SECONDS = 30 * 86400


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    type: str
    created_at: int
    data: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None       # the person reference, for events about one person


def new_id(now_ms: int) -> str:
    return f"evt_{now_ms:013d}{secrets.token_hex(5)}"


def put_op(event_type: str, data: dict[str, Any], now: int, subject: str | None = None) -> dict[str, Any]:
    """The Put of one event, to add to the transaction that makes the change."""
    # the id's time is the platform clock in milliseconds, so a person's events sort in the order they happened
    event = {"pk": new_id(int(clock.now_float() * 1000)), "type": event_type, "data": data,
             "subject": subject, "created_at": now, "expires_at": now + KEEP_SECONDS}
    return dynamo.put_op(KIND, event, condition="attribute_not_exists(pk)")


def _event(item: dict[str, Any]) -> Event:
    return Event(item["pk"], item["type"], int(item["created_at"]), item.get("data") or {}, item.get("subject"))


def inserted(record: dict[str, Any]) -> Event | None:
    """The event a Lambda-shaped stream record of this table inserted; None for TTL removals and the like."""
    if record.get("eventName") != "INSERT":
        return None
    item = dynamo.from_item(record["dynamodb"]["NewImage"])
    return _event(item) if item else None

