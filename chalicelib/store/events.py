"""The events table: an outbox written in the same transaction as the change it reports."""
from __future__ import annotations

import secrets
from typing import Any

from chalicelib import clock
from chalicelib.store import dynamo

KIND = "events"
KEEP_SECONDS = 30 * 86400


def new_id(now_ms: int) -> str:
    # time-ordered, so an event id also tells when it happened
    return f"evt_{now_ms:013d}{secrets.token_hex(5)}"


def put_op(event_type: str, data: dict[str, Any], now: int, subject: str | None = None) -> dict[str, Any]:
    """The Put of one event, to add to the transaction that makes the change."""
    # the id's time is the platform clock in milliseconds, so a person's events sort in the order they happened
    event = {"pk": new_id(int(clock.now_float() * 1000)), "type": event_type, "data": data,
             "subject": subject, "created_at": now, "expires_at": now + KEEP_SECONDS}
    return dynamo.put_op(KIND, event, condition="attribute_not_exists(pk)")


def get(event_id: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": event_id})
