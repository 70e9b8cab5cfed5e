"""Fixed-window request counters for public endpoints."""
from __future__ import annotations

from chalicelib.store import dynamo

KIND = "ratelimits"


def hit(bucket: str, caller: str, window_start: int, window_seconds: int) -> int:
    """Count one request in the window and return the count so far."""
    item = dynamo.update(KIND, {"pk": f"{bucket}#{caller}#{window_start}"}, "ADD hits :one SET expires_at = :exp",
                         {":one": 1, ":exp": window_start + 2 * window_seconds})
    return int(item["hits"]) if item else 1
