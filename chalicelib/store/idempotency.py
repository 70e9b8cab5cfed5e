"""The idempotency table: one record per (caller, operation, Idempotency-Key).

Modelled on Powertools' DynamoDB persistence layer: a conditional put claims
the key only if no live record exists; expiry is checked in code because TTL
deletion lags; a completed record carries the response a retry gets back.
"""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "idempotency"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


def claim(key: str, fingerprint: str, now: int, in_progress_seconds: int, keep_seconds: int) -> bool:
    """True if we own the key now; False if a live record is there (read it with `get`)."""
    try:
        dynamo.put(KIND, {"pk": key, "status": IN_PROGRESS, "fingerprint": fingerprint,
                          "in_progress_until": now + in_progress_seconds, "expires_at": now + keep_seconds},
                   condition="attribute_not_exists(pk) OR expires_at < :now OR "
                             "(#s = :in_progress AND in_progress_until < :now)",
                   values={":now": now, ":in_progress": IN_PROGRESS}, names={"#s": "status"})
        return True
    except dynamo.ConditionFailed:
        return False


def get(key: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": key}, consistent=True)


def complete(key: str, status_code: int, body: str) -> None:
    dynamo.update(KIND, {"pk": key}, "SET #s = :done, status_code = :code, body = :body",
                  {":done": COMPLETED, ":code": status_code, ":body": body}, names={"#s": "status"})


def release(key: str) -> None:
    """Forget a claim whose request failed, so a corrected retry can run."""
    dynamo.delete(KIND, {"pk": key})
