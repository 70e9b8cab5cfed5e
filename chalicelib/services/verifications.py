"""A checkpoint verifies a scanned QR token: signature, expiry, then the live color; the scan is recorded."""
from __future__ import annotations

import datetime as dt
import secrets as random
from typing import Any

from chalicelib import clock
from chalicelib.domain.colors import live_color, reasons_from_sources
from chalicelib.domain.declaration import FEVER_CELSIUS
from chalicelib.security import province_tokens, pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.settings import get_settings
from chalicelib.store import codes, localcodes, scans

DAY = 86400


def _refusal(reason: str, message: str, now: int) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "checked_at": now}


def verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None) -> dict[str, Any]:
    settings = get_settings()
    now = clock.now()
    try:
        code_id = qr_tokens.verify(token, settings.qr_token_ttl, now)
    except qr_tokens.TokenRejected as rejected:
        # our tokens carry no `iss`; a province's do, and its kids may happen to look like ours
        if rejected.reason in ("unknown_key", "bad_signature") and province_tokens.issuer_province(token):
            return verify_provincial(principal, token, checkpoint_id, temperature, now)
        return _refusal(rejected.reason, rejected.message, now)
    # an eventually consistent read: half the cost, and a color change reaches it within a second
    record = codes.get(code_id)
    if record is None:
        return _refusal("unknown_code", "No such code exists.", now)
    if record["status"] != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = live_color(reasons_from_sources(record.get("sources", {})), now).value
    scan_id, fever = _record_scan(principal, code_id, checkpoint_id, temperature, color, now)
    return {"valid": True, "color": color, "name_masked": record["name_masked"], "id_last4": record["id_last4"],
            "fever": fever, "checked_at": now, "scan_id": scan_id, "issuer": "national"}


def verify_provincial(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
                      now: int) -> dict[str, Any]:
    """Mutual recognition: a province's own token, checked against its registered keys, answered
    with the live consolidated color."""
    from chalicelib.services import sync

    try:
        province, local_code_id = province_tokens.verify(token, now)
    except qr_tokens.TokenRejected as rejected:
        return _refusal(rejected.reason, rejected.message, now)
    local = localcodes.holder(province, local_code_id)
    if local is None:
        return _refusal("unknown_code", "The province has not shared this local code with the platform.", now)
    person = local["person"]
    code_id = pseudonyms.code_id(person)
    record = codes.get(code_id)
    if record is not None and record["status"] != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = sync.consolidated(person, now)["color"]
    scan_id, fever = _record_scan(principal, code_id, checkpoint_id, temperature, color, now, issuer=province)
    return {"valid": True, "color": color, "name_masked": record["name_masked"] if record else None,
            "id_last4": local["id_last4"], "fever": fever, "checked_at": now, "scan_id": scan_id,
            "issuer": f"province:{province}"}


def _record_scan(principal: Principal, code_id: str, checkpoint_id: str, temperature: float | None, color: str,
                 now: int, issuer: str = "national") -> tuple[str, bool]:
    settings = get_settings()
    fever = temperature is not None and temperature >= FEVER_CELSIUS
    scanned_at = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    scan_id = random.token_urlsafe(8)
    scans.record({"pk": code_id, "sk": f"{scanned_at}#{scan_id}", "scan_id": scan_id, "scanned_at": now,
                  "checkpoint_id": checkpoint_id, "client_id": principal.subject, "area": principal.area,
                  "temperature": temperature, "fever": fever, "color": color, "issuer": issuer,
                  "expires_at": now + settings.scan_retention_days * DAY})
    return scan_id, fever
