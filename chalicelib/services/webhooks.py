"""Provinces manage their webhook subscriptions: create (secret shown once), read, update, delete,
rotate the secret, ping, and see and replay deliveries."""
from __future__ import annotations

import json
import secrets as random
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, identifiers
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.events import delivery
from chalicelib.services import cursors
from chalicelib.services.versioned import versioned_update
from chalicelib.security import sealing, urls, webhook_signing
from chalicelib.security.access import Principal
from chalicelib.settings import get_settings
from chalicelib.store import deliveries, events, webhooks

ROTATION_GRACE_SECONDS = 24 * 3600
MAX_PER_PROVINCE = 20


def check_url(url: str) -> str:
    try:
        return urls.check(url, get_settings().allows_loopback_webhooks)
    except urls.UnsafeUrl as exc:
        raise ValidationFailed("The webhook URL is not allowed.",
                               [{"field": "url", "message": str(exc), "type": "unsafe_url"}]) from None


def describe(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["pk"], "url": record["url"], "event_types": record["event_types"],
            "description": record.get("description"), "status": record["status"],
            "disabled_reason": record.get("disabled_reason"), "created_at": record["created_at"],
            "updated_at": record["updated_at"],
            "secrets": [{"created_at": s["created_at"], "retire_at": s.get("retire_at")} for s in record["secrets"]]}


def owned(principal: Principal, webhook_id: str) -> dict[str, Any]:
    record = webhooks.get(webhook_id) if identifiers.is_webhook_id(webhook_id) else None
    if record is None or record["province"] != principal.province:
        raise NotFound("No such webhook for your province.", code="unknown_webhook")
    return record


def create(principal: Principal, url: str, event_types: list[str], description: str | None) -> dict[str, Any]:
    check_url(url)
    if len(webhooks.of_province(principal.province)) >= MAX_PER_PROVINCE:
        raise Conflict(f"A province may hold at most {MAX_PER_PROVINCE} webhooks.", code="too_many_webhooks")
    now = clock.now()
    secret = webhook_signing.new_secret()
    record = {"pk": "wh_" + random.token_hex(8), "province": principal.province, "client_id": principal.subject,
              "url": url, "event_types": sorted(set(event_types)), "description": description, "status": "active",
              "secrets": [{"sealed": sealing.seal(secret, "webhook"), "created_at": now, "retire_at": None}],
              "created_at": now, "updated_at": now, "version": 1}
    webhooks.save(record, None)
    return {**describe(record), "secret": secret}


def _save(current: dict[str, Any], updated: dict[str, Any]) -> dict[str, Any]:
    webhooks.save(updated, current["version"])
    return updated


def update(principal: Principal, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    def change(record: dict[str, Any]) -> dict[str, Any]:
        updated = dict(record)
        if "url" in changes:
            updated["url"] = check_url(changes["url"])
        if "event_types" in changes:
            updated["event_types"] = sorted(set(changes["event_types"]))
        if "description" in changes:
            updated["description"] = changes["description"]
        if changes.get("status") == "active":
            updated.update(status="active", disabled_reason=None)
        elif changes.get("status") == "disabled":
            updated.update(status="disabled", disabled_reason="disabled by the province")
        updated.update(updated_at=clock.now(), version=record["version"] + 1)
        return updated

    return describe(versioned_update(lambda: owned(principal, webhook_id), change, _save, "The webhook"))


def delete(principal: Principal, webhook_id: str) -> None:
    owned(principal, webhook_id)
    webhooks.delete(webhook_id)


def rotate_secret(principal: Principal, webhook_id: str) -> dict[str, Any]:
    """A new secret signs from now on; the old ones keep signing for a day so receivers can switch."""
    now = clock.now()
    secret = webhook_signing.new_secret()

    def change(record: dict[str, Any]) -> dict[str, Any]:
        kept = [{**s, "retire_at": s.get("retire_at") or now + ROTATION_GRACE_SECONDS}
                for s in record["secrets"] if s.get("retire_at") is None or s["retire_at"] > now]
        return {**record, "secrets": [*kept, {"sealed": sealing.seal(secret, "webhook"), "created_at": now,
                                              "retire_at": None}],
                "updated_at": now, "version": record["version"] + 1}

    updated = versioned_update(lambda: owned(principal, webhook_id), change, _save, "The webhook")
    return {**describe(updated), "secret": secret}


def ping(principal: Principal, webhook_id: str) -> dict[str, Any]:
    """Send a `webhook.ping` now and report the attempt (it is recorded like any delivery)."""
    record = owned(principal, webhook_id)
    now = clock.now()
    event_id = events.new_id(now * 1000)
    body = {"type": "webhook.ping", "timestamp": days.iso(now), "data": {"webhook_id": webhook_id}}
    deliveries.create({"pk": record["pk"], "sk": event_id, "event_type": "webhook.ping", "province": record["province"],
                       "body": json.dumps(body, separators=(",", ":")), "status": "pending", "attempts": 0,
                       "claimed_until": 0, "next_attempt_at": now, "due_shard": deliveries.shard_of(record["pk"], event_id),
                       "created_at": now, "expires_at": now + deliveries.KEEP_SECONDS})
    result = delivery.attempt(record["pk"], event_id, now)
    return {"delivery_id": event_id, **(result or {})}


def public_delivery(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["sk"], "event_type": item["event_type"], "status": item["status"],
            "attempts": item.get("attempt_log", []), "next_attempt_at": item.get("next_attempt_at")
            if item["status"] == "pending" else None, "created_at": item["created_at"],
            "replays": item.get("replays", 0)}


def list_deliveries(principal: Principal, webhook_id: str, status: str | None, limit: int,
                    cursor: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    owned(principal, webhook_id)
    items, last = deliveries.page(webhook_id, limit, cursors.decode(cursor, deliveries.pages(webhook_id)), status)
    return [public_delivery(i) for i in items], last


def replay(principal: Principal, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    owned(principal, webhook_id)
    return replay_delivery(webhook_id, delivery_id)


def replay_delivery(webhook_id: str, delivery_id: str) -> dict[str, Any]:
    """Ops and provinces: send a finished (dead or delivered) delivery again, from a fresh schedule."""
    if not identifiers.is_event_id(delivery_id):
        raise NotFound("No such delivery.", code="unknown_delivery")
    now = clock.now()
    if deliveries.replay(webhook_id, delivery_id, now) is None:
        if deliveries.get(webhook_id, delivery_id) is None:
            raise NotFound("No such delivery.", code="unknown_delivery")
        raise Conflict("The delivery is still pending; it will be retried on its schedule.", code="delivery_pending")
    result = delivery.attempt(webhook_id, delivery_id, now)
    return {"delivery_id": delivery_id, **(result or {})}
