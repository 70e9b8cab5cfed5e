"""The scans table: every checkpoint scan of a code, kept for the retention period."""
from __future__ import annotations

from typing import Any

from chalicelib.store import dynamo

KIND = "scans"


def record(scan: dict[str, Any]) -> None:
    # sk holds time and a random id, so a scan is never overwritten
    dynamo.put(KIND, scan, condition="attribute_not_exists(pk)")


def since(code_id: str, since_iso: str, now: int, limit: int = 200) -> list[dict[str, Any]]:
    """Scans of one code from `since_iso` on, newest first; rows past their TTL are dropped here."""
    items, _ = dynamo.query(KIND, "pk = :pk AND sk >= :since", {":pk": code_id, ":since": since_iso},
                            forward=False, limit=limit)
    return [i for i in items if i.get("expires_at", now + 1) > now]
