"""A checkpoint verifies a scanned QR token: signature, expiry, then the live color; the scan is recorded."""
from __future__ import annotations

import datetime as dt
import secrets as random
from typing import Any

from chalicelib import clock
from chalicelib.domain.colors import live_color, reasons_from_sources
from chalicelib.domain.declaration import FEVER_CELSIUS
from chalicelib.security import qr_tokens
from chalicelib.security.access import Principal
from chalicelib.settings import get_settings
from chalicelib.store import codes, scans

DAY = 86400


def _refusal(reason: str, message: str, now: int) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "checked_at": now}


def verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None) -> dict[str, Any]:
    settings = get_settings()
    now = clock.now()
    try:
        code_id = qr_tokens.verify(token, settings.qr_token_ttl, now)
    except qr_tokens.TokenRejected as rejected:
        return _refusal(rejected.reason, rejected.message, now)
    # an eventually consistent read: half the cost, and a color change reaches it within a second
    record = codes.get(code_id)
    if record is None:
        return _refusal("unknown_code", "No such code exists.", now)
    if record["status"] != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = live_color(reasons_from_sources(record.get("sources", {})), now).value
    fever = temperature is not None and temperature >= FEVER_CELSIUS
    scanned_at = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    scan_id = random.token_urlsafe(8)
    scans.record({"pk": code_id, "sk": f"{scanned_at}#{scan_id}", "scan_id": scan_id, "scanned_at": now,
                  "checkpoint_id": checkpoint_id, "client_id": principal.subject, "area": principal.area,
                  "temperature": temperature, "fever": fever, "color": color,
                  "expires_at": now + settings.scan_retention_days * DAY})
    return {"valid": True, "color": color, "name_masked": record["name_masked"], "id_last4": record["id_last4"],
            "fever": fever, "checked_at": now, "scan_id": scan_id}
