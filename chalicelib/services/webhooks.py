"""Provinces manage their webhook subscriptions: create (secret shown once), read, update, delete,
rotate the secret, ping, and see and replay deliveries."""
from __future__ import annotations

import json
import secrets
from dataclasses import replace
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, identifiers
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.events import delivery
from chalicelib.security import sealing, urls, webhook_signing
from chalicelib.security.access import Principal
from chalicelib.services import cursors
from chalicelib.services.versioned import versioned_update
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


def describe(subscription: webhooks.Subscription) -> dict[str, Any]:
    s = subscription
    return {"id": s.webhook_id, "url": s.url, "event_types": list(s.event_types), "description": s.description,
            "status": s.status, "disabled_reason": s.disabled_reason, "created_at": s.created_at,
            "updated_at": s.updated_at,
            "secrets": [{"created_at": x.created_at, "retire_at": x.retire_at} for x in s.secrets]}


def of_caller(principal: Principal) -> list[dict[str, Any]]:
    return [describe(s) for s in webhooks.of_province(principal.own_province)]


def owned(principal: Principal, webhook_id: str) -> webhooks.Subscription:
    found = webhooks.get(webhook_id) if identifiers.is_webhook_id(webhook_id) else None
    if found is None or found.province != principal.province:
        raise NotFound("No such webhook for your province.", code="unknown_webhook")
    return found


def _new_secret(now: int) -> tuple[str, webhooks.Secret]:
    secret = webhook_signing.new_secret()
    return secret, webhooks.Secret(sealing.seal(secret, "webhook"), now, None)


def create(principal: Principal, url: str, event_types: list[str], description: str | None) -> dict[str, Any]:
    check_url(url)
    assert principal.province is not None   # a province client's, as the route requires
    if len(webhooks.of_province(principal.province)) >= MAX_PER_PROVINCE:
        raise Conflict(f"A province may hold at most {MAX_PER_PROVINCE} webhooks.", code="too_many_webhooks")
    now = clock.now()
    secret, sealed = _new_secret(now)
    subscription = webhooks.Subscription("wh_" + secrets.token_hex(8), principal.province, principal.subject, url,
                                         tuple(sorted(set(event_types))), description, webhooks.ACTIVE, None,
                                         (sealed,), now, now, 1)
    webhooks.save(subscription, None)
    return {**describe(subscription), "secret": secret}


def _save(current: webhooks.Subscription, updated: webhooks.Subscription) -> webhooks.Subscription:
    webhooks.save(updated, current.version)
    return updated


def update(principal: Principal, webhook_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    def change(current: webhooks.Subscription) -> webhooks.Subscription:
        updated = current
        if "url" in changes:
            updated = replace(updated, url=check_url(changes["url"]))
        if "event_types" in changes:
            updated = replace(updated, event_types=tuple(sorted(set(changes["event_types"]))))
        if "description" in changes:
            updated = replace(updated, description=changes["description"])
        if changes.get("status") == "active":
            updated = replace(updated, status=webhooks.ACTIVE, disabled_reason=None)
        elif changes.get("status") == "disabled":
            updated = replace(updated, status="disabled", disabled_reason="disabled by the province")
        return replace(updated, updated_at=clock.now(), version=current.version + 1)

    return describe(versioned_update(lambda: owned(principal, webhook_id), change, _save, "The webhook"))


def delete(principal: Principal, webhook_id: str) -> None:
    owned(principal, webhook_id)
    webhooks.delete(webhook_id)


def rotate_secret(principal: Principal, webhook_id: str) -> dict[str, Any]:
    """A new secret signs from now on; the old ones keep signing for a day so receivers can switch."""
    now = clock.now()
    secret, sealed = _new_secret(now)

    def change(current: webhooks.Subscription) -> webhooks.Subscription:
        kept = [replace(s, retire_at=s.retire_at or now + ROTATION_GRACE_SECONDS)
                for s in current.secrets if s.retire_at is None or s.retire_at > now]
        return replace(current, secrets=(*kept, sealed), updated_at=now, version=current.version + 1)

    updated = versioned_update(lambda: owned(principal, webhook_id), change, _save, "The webhook")
    return {**describe(updated), "secret": secret}


def ping(principal: Principal, webhook_id: str) -> dict[str, Any]:
    """Send a `webhook.ping` now and report the attempt (it is recorded like any delivery)."""
    subscription = owned(principal, webhook_id)
    now = clock.now()
    event_id = events.new_id(now * 1000)
    body = {"type": "webhook.ping", "timestamp": days.iso(now), "data": {"webhook_id": webhook_id}}
    deliveries.create(subscription.webhook_id, event_id, "webhook.ping", subscription.province,
                      json.dumps(body, separators=(",", ":")), now)
    result = delivery.attempt(subscription.webhook_id, event_id, now)
    return {"delivery_id": event_id, **(result or {})}


def public_delivery(sent: deliveries.Delivery) -> dict[str, Any]:
    return {"id": sent.event_id, "event_type": sent.event_type, "status": sent.status,
            "attempts": [a.to_dict() for a in sent.attempt_log],
            "next_attempt_at": sent.next_attempt_at if sent.status == deliveries.PENDING else None,
            "created_at": sent.created_at, "replays": sent.replays}


def list_deliveries(principal: Principal, webhook_id: str, status: str | None, limit: int,
                    cursor: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    owned(principal, webhook_id)
    found, last = deliveries.page(webhook_id, limit, cursors.decode(cursor, deliveries.pages(webhook_id)), status)
    return [public_delivery(d) for d in found], last


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
