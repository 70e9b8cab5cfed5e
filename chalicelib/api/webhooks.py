"""Provinces' webhook subscriptions (docs/webhooks.md)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field

from chalicelib import errors
from chalicelib.api.fields import NoIdNumber
from chalicelib.api.routes import route
from chalicelib.events.delivery import EVENT_TYPES
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import cursors, webhooks

bp = Blueprint(__name__)
EventType = Literal["person.color_changed", "correction.decided", "test_result.synced", "person.erased",
                    "area.level_changed", "exposure.published",
                    "venue.exposure_published"]
assert sorted(EventType.__args__) == EVENT_TYPES  # type: ignore[attr-defined]  # a Literal's members, at run time


class WebhookRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: Annotated[str, Field(min_length=8, max_length=2048), NoIdNumber]
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: Annotated[str, Field(max_length=200), NoIdNumber] | None = None


class WebhookChange(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: Annotated[str, Field(min_length=8, max_length=2048), NoIdNumber] | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    description: Annotated[str, Field(max_length=200), NoIdNumber] | None = None
    status: Literal["active", "disabled"] | None = None


class DeliveriesQuery(Model):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "delivered", "dead"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=512)


PROVINCE = [Role.PROVINCE]


@route(bp, "/v1/webhooks", methods=["POST"], roles=PROVINCE, body=WebhookRequest, responds={201: "NewWebhook"},
       errors=[errors.TOO_MANY_WEBHOOKS], example={"url": "https://hooks.example.gov.cn/healthcode",
                                                   "event_types": ["area.level_changed", "person.color_changed"]})
def create(caller: Principal, body: WebhookRequest) -> dict[str, Any]:
    """Subscribe a webhook; its signing secret is shown once"""
    return webhooks.create(caller, body.url, list(body.event_types), body.description)


@route(bp, "/v1/webhooks", methods=["GET"], roles=PROVINCE, responds={200: "Webhooks"})
def list_own(caller: Principal) -> dict[str, Any]:
    """My province's webhook subscriptions"""
    return {"webhooks": webhooks.of_caller(caller)}


@route(bp, "/v1/webhooks/{webhook_id}", methods=["GET"], roles=PROVINCE, responds={200: "Webhook"})
def read(webhook_id: str, caller: Principal) -> dict[str, Any]:
    """A webhook subscription"""
    return webhooks.describe(webhooks.owned(caller, webhook_id))


@route(bp, "/v1/webhooks/{webhook_id}", methods=["PATCH"], roles=PROVINCE, body=WebhookChange,
       responds={200: "Webhook"}, errors=[errors.CONCURRENT_UPDATE])
def update(webhook_id: str, caller: Principal, body: WebhookChange) -> dict[str, Any]:
    """Change a webhook"""
    return webhooks.update(caller, webhook_id, body.model_dump(exclude_unset=True))


@route(bp, "/v1/webhooks/{webhook_id}", methods=["DELETE"], roles=PROVINCE, responds={204: None})
def delete(webhook_id: str, caller: Principal) -> None:
    """Delete a webhook subscription; its deliveries stop"""
    webhooks.delete(caller, webhook_id)


@route(bp, "/v1/webhooks/{webhook_id}/rotate-secret", methods=["POST"], roles=PROVINCE,
       responds={200: "NewWebhook"}, errors=[errors.CONCURRENT_UPDATE])
def rotate(webhook_id: str, caller: Principal) -> dict[str, Any]:
    """A new signing secret, shown once; the old ones keep signing for a day"""
    return webhooks.rotate_secret(caller, webhook_id)


@route(bp, "/v1/webhooks/{webhook_id}/ping", methods=["POST"], roles=PROVINCE, responds={200: "DeliveryAttempt"})
def ping(webhook_id: str, caller: Principal) -> dict[str, Any]:
    """Send a `webhook.ping` now and report the attempt"""
    return webhooks.ping(caller, webhook_id)


@route(bp, "/v1/webhooks/{webhook_id}/deliveries", methods=["GET"], roles=PROVINCE, query=DeliveriesQuery,
       responds={200: "DeliveryPage"})
def deliveries(webhook_id: str, caller: Principal, query: DeliveriesQuery) -> dict[str, Any]:
    """The webhook's deliveries and their attempts, newest first"""
    items, last = webhooks.list_deliveries(caller, webhook_id, query.status, query.limit, query.cursor)
    return {"deliveries": items, "next_cursor": cursors.encode(last)}


@route(bp, "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", methods=["POST"], roles=PROVINCE,
       responds={200: "DeliveryAttempt"}, errors=[errors.DELIVERY_PENDING])
def replay(webhook_id: str, delivery_id: str, caller: Principal) -> dict[str, Any]:
    """Send a finished (delivered or dead) delivery again, from a fresh schedule"""
    return webhooks.replay(caller, webhook_id, delivery_id)
