"""Provinces' webhook subscriptions (docs/webhooks.md)."""
from __future__ import annotations

from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib.api.fields import NoIdNumber
from chalicelib.api.http import body, ok, principal, query, route
from chalicelib.events.delivery import EVENT_TYPES
from chalicelib.models import Model
from chalicelib.security.access import Role
from chalicelib.services import cursors, webhooks

bp = Blueprint(__name__)
EventType = Literal["person.color_changed", "correction.decided", "area.level_changed", "exposure.published"]
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


def _province():
    return principal(bp.current_request, Role.PROVINCE)


@route(bp, "/v1/webhooks", methods=["POST"])
def create():
    caller = _province()
    request = body(bp.current_request, WebhookRequest)
    return ok(webhooks.create(caller, request.url, list(request.event_types), request.description), 201)


@route(bp, "/v1/webhooks", methods=["GET"])
def list_own():
    from chalicelib.store import webhooks as store

    caller = _province()
    return ok({"webhooks": [webhooks.describe(w) for w in store.of_province(caller.province)]})


@route(bp, "/v1/webhooks/{webhook_id}", methods=["GET"])
def read(webhook_id: str):
    return ok(webhooks.describe(webhooks.owned(_province(), webhook_id)))


@route(bp, "/v1/webhooks/{webhook_id}", methods=["PATCH"])
def update(webhook_id: str):
    caller = _province()
    change = body(bp.current_request, WebhookChange)
    return ok(webhooks.update(caller, webhook_id, change.model_dump(exclude_unset=True)))


@route(bp, "/v1/webhooks/{webhook_id}", methods=["DELETE"])
def delete(webhook_id: str):
    webhooks.delete(_province(), webhook_id)
    return Response(body="", status_code=204)


@route(bp, "/v1/webhooks/{webhook_id}/rotate-secret", methods=["POST"])
def rotate(webhook_id: str):
    return ok(webhooks.rotate_secret(_province(), webhook_id))


@route(bp, "/v1/webhooks/{webhook_id}/ping", methods=["POST"])
def ping(webhook_id: str):
    return ok(webhooks.ping(_province(), webhook_id))


@route(bp, "/v1/webhooks/{webhook_id}/deliveries", methods=["GET"])
def deliveries(webhook_id: str):
    caller = _province()
    params = query(bp.current_request, DeliveriesQuery)
    items, last = webhooks.list_deliveries(caller, webhook_id, params.status, params.limit,
                                           params.cursor)
    return ok({"deliveries": items, "next_cursor": cursors.encode(last)})


@route(bp, "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", methods=["POST"])
def replay(webhook_id: str, delivery_id: str):
    return ok(webhooks.replay(_province(), webhook_id, delivery_id))
