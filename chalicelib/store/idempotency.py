"""The idempotency table: one record per (caller, operation, Idempotency-Key).

Modelled on Powertools' DynamoDB persistence layer: a conditional put claims the key only if no live
record exists, and a put that loses is answered with the record that made it lose
(ReturnValuesOnConditionCheckFailure=ALL_OLD), so claiming or finding the first request's record is one
round trip. Expiry is checked in code because TTL deletion lags; a completed record carries the response
a retry gets back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo

KIND = "idempotency"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"


@dataclass(frozen=True, slots=True)
class Record:
    key: str
    status: str                    # IN_PROGRESS, then COMPLETED
    fingerprint: str               # of the request body the key was first used with
    in_progress_until: int         # an IN_PROGRESS record older than this was left by a request that died
    expires_at: int
    status_code: int | None = None   # the first answer, once COMPLETED
    body: str | None = None


def _record(item: dict[str, Any]) -> Record:
    code = item.get("status_code")
    return Record(item["pk"], item["status"], item["fingerprint"], int(item["in_progress_until"]),
                  int(item["expires_at"]), None if code is None else int(code), item.get("body"))


def claim(key: str, fingerprint: str, now: int, in_progress_seconds: int, keep_seconds: int) -> Record | None:
    """None if we own the key now; else the live record that holds it, read by the same request."""
    try:
        dynamo.put(KIND, {"pk": key, "status": IN_PROGRESS, "fingerprint": fingerprint,
                          "in_progress_until": now + in_progress_seconds, "expires_at": now + keep_seconds},
                   condition="attribute_not_exists(pk) OR expires_at < :now OR "
                             "(#s = :in_progress AND in_progress_until < :now)",
                   values={":now": now, ":in_progress": IN_PROGRESS}, names={"#s": "status"}, return_old=True)
        return None
    except dynamo.ConditionFailed as lost:
        held = lost.failed.get(0)
        if held is None:  # DynamoDB always sends it with ALL_OLD; were it missing, the key is taken all the same
            return Record(key, IN_PROGRESS, fingerprint, now + in_progress_seconds, now + keep_seconds)
        return _record(held)


def complete(key: str, status_code: int, body: str) -> None:
    dynamo.update(KIND, {"pk": key}, "SET #s = :done, status_code = :code, body = :body",
                  {":done": COMPLETED, ":code": status_code, ":body": body}, names={"#s": "status"})


def release(key: str) -> None:
    """Forget a claim whose request failed, so a corrected retry can run."""
    dynamo.delete(KIND, {"pk": key})
