"""The webhooks table: provinces' subscriptions (`pk = <webhook id>`, indexed by province)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo

KIND = "webhooks"
PROVINCE_INDEX = "by_province"
ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Secret:
    sealed: str                  # the signing secret, sealed (security/sealing.py)
    created_at: int
    retire_at: int | None        # signs until then; None: until another rotation


@dataclass(frozen=True, slots=True)
class Subscription:
    webhook_id: str
    province: str
    client_id: str
    url: str
    event_types: tuple[str, ...]
    description: str | None
    status: str                  # active | disabled
    disabled_reason: str | None
    secrets: tuple[Secret, ...]
    created_at: int
    updated_at: int
    version: int


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription(item["pk"], item["province"], item.get("client_id", ""), item["url"],
                        tuple(item.get("event_types") or ()), item.get("description"), item["status"],
                        item.get("disabled_reason"),
                        tuple(Secret(s["sealed"], int(s["created_at"]), s.get("retire_at")) for s in item["secrets"]),
                        int(item["created_at"]), int(item["updated_at"]), int(item["version"]))


def get(webhook_id: str) -> Subscription | None:
    item = dynamo.get(KIND, {"pk": webhook_id}, consistent=True)
    return _subscription(item) if item is not None else None


def save(subscription: Subscription, expected_version: int | None) -> None:
    """The first version only if the id is new, a later one only if nobody wrote since `expected_version`."""
    s = subscription
    item = {"pk": s.webhook_id, "province": s.province, "client_id": s.client_id, "url": s.url,
            "event_types": list(s.event_types), "description": s.description, "status": s.status,
            "disabled_reason": s.disabled_reason,
            "secrets": [{"sealed": x.sealed, "created_at": x.created_at, "retire_at": x.retire_at} for x in s.secrets],
            "created_at": s.created_at, "updated_at": s.updated_at, "version": s.version}
    if expected_version is None:
        dynamo.put(KIND, item, condition="attribute_not_exists(pk)")
    else:
        dynamo.put(KIND, item, condition="version = :v", values={":v": expected_version})


def delete(webhook_id: str) -> None:
    dynamo.delete(KIND, {"pk": webhook_id}, condition="attribute_exists(pk)")


def of_province(province: str) -> list[Subscription]:
    return [_subscription(i) for i in dynamo.query_all(KIND, "province = :p", {":p": province}, index=PROVINCE_INDEX)]


def active() -> list[Subscription]:
    return [_subscription(i) for i in dynamo.scan_all(KIND, "#s = :a", {":a": ACTIVE}, {"#s": "status"})]


def disable(webhook_id: str, reason: str, at: int) -> None:
    dynamo.update(KIND, {"pk": webhook_id}, "SET #s = :d, disabled_reason = :r, updated_at = :t ADD version :one",
                  {":d": "disabled", ":r": reason, ":t": at, ":one": 1}, names={"#s": "status"},
                  condition="attribute_exists(pk)")
