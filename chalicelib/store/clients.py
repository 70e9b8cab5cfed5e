"""The clients table: checkpoints, provinces, health authorities and ops, with hashed secrets (`pk = <client id>`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo

KIND = "clients"
ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    role: str
    name: str
    province: str | None         # province and health-authority clients' two-digit scope
    area: str | None             # a checkpoint's GB/T 2260 area
    secret_hash: str             # only the hash of the secret is ever stored
    status: str                  # active | revoked
    created_at: int


def _client(item: dict[str, Any]) -> Client:
    return Client(item["pk"], item["role"], item.get("name", ""), item.get("province"), item.get("area"),
                  item["secret_hash"], item["status"], int(item.get("created_at", 0)))


def create(client: Client) -> None:
    """ConditionFailed if the id is taken."""
    dynamo.put(KIND, {"pk": client.client_id, "role": client.role, "name": client.name, "province": client.province,
                      "area": client.area, "secret_hash": client.secret_hash, "status": client.status,
                      "created_at": client.created_at}, condition="attribute_not_exists(pk)")


def get(client_id: str) -> Client | None:
    item = dynamo.get(KIND, {"pk": client_id}, consistent=True)
    return _client(item) if item is not None else None


def set_status(client_id: str, status: str, at: int) -> None:
    """ConditionFailed if there is no such client."""
    dynamo.update(KIND, {"pk": client_id}, "SET #s = :s, updated_at = :t", {":s": status, ":t": at},
                  condition="attribute_exists(pk)", names={"#s": "status"})


def list_all() -> list[Client]:
    return [_client(i) for i in dynamo.scan_all(KIND)]
