"""A checkpoint verifies a scanned QR token: signature, expiry, then the live color; the scan is recorded."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import limits
from chalicelib.domain.colors import live_color
from chalicelib.domain.declaration import FEVER_CELSIUS
from chalicelib.security import province_tokens, pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.services import area_levels, throttle
from chalicelib.settings import get_settings
from chalicelib.store import codes, localcodes, scans

DAY = 86400


def _refusal(reason: str, message: str, now: int) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "checked_at": now}


def verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None) -> dict[str, Any]:
    """One token check and one DynamoDB round trip: the scan is noted on the code by the same
    UpdateItem that reads it, and the scans table is filled from the stream. The code's stays are
    judged against the container's copy of the area levels (services/area_levels.py). The checkpoint's
    limit is counted in the container; the write of its count, one in 50, overlaps the UpdateItem."""
    counted = throttle.check_sampled(limits.VERIFICATIONS_PER_CHECKPOINT, principal.subject)
    try:
        return _verify(principal, token, checkpoint_id, temperature)
    finally:
        counted()


def _verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None) -> dict[str, Any]:
    settings = get_settings()
    now = clock.now()
    try:
        code_id = qr_tokens.verify(token, settings.qr_token_ttl, now)
    except qr_tokens.TokenRejected as rejected:
        # our tokens carry no `iss`; a province's do, and its kids may happen to look like ours
        if rejected.reason in ("unknown_key", "bad_signature") and province_tokens.issuer_province(token) is not None:
            return verify_provincial(principal, token, checkpoint_id, temperature, now)
        return _refusal(rejected.reason, rejected.message, now)
    scan = new_scan(principal, checkpoint_id, temperature, now)
    levels = area_levels.prefetch()   # read alongside the scan's write when the container's copy is too old
    record = codes.record_scan(code_id, scan)
    if record is None:
        return _refusal("unknown_code", "No such code exists.", now)
    if record["status"] != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = live_color(area_levels.live_reasons(record, now, levels()), now).value
    return {"valid": True, "color": color, "name_masked": record["name_masked"], "id_last4": record["id_last4"],
            "fever": scan["fever"], "checked_at": now, "scan_id": scan["scan_id"], "issuer": "national"}


def new_scan(principal: Principal, checkpoint_id: str, temperature: float | None, now: int,
             issuer: str = "national") -> dict[str, Any]:
    return {"scan_id": secrets.token_urlsafe(8), "at": now, "checkpoint_id": checkpoint_id,
            "client_id": principal.subject, "area": principal.area, "temperature": temperature,
            "fever": temperature is not None and temperature >= FEVER_CELSIUS, "issuer": issuer}


def scan_row(code_id: str, scan: dict[str, Any], color: str) -> dict[str, Any]:
    """The scans table's row for a scan: kept for the retention period."""
    scanned_at = dt.datetime.fromtimestamp(scan["at"], dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"pk": code_id, "sk": f"{scanned_at}#{scan['scan_id']}", **scan, "scanned_at": scan["at"], "color": color,
            "expires_at": scan["at"] + get_settings().scan_retention_days * DAY}


def verify_provincial(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
                      now: int) -> dict[str, Any]:
    """Mutual recognition: a province's own token, checked against its registered keys, answered
    with the live consolidated color."""
    from chalicelib.services import sync

    try:
        province, local_code_id = province_tokens.verify(token, now)
    except qr_tokens.TokenRejected as rejected:
        return _refusal(rejected.reason, rejected.message, now)
    local = localcodes.holder(province, local_code_id) if province_tokens.names_a_local_code(local_code_id) else None
    if local is None:
        return _refusal("unknown_code", "The province has not shared this local code with the platform.", now)
    person = local["person"]
    code_id = pseudonyms.code_id(person)
    scan = new_scan(principal, checkpoint_id, temperature, now, issuer=f"province:{province}")
    record = codes.record_scan(code_id, scan)
    if record is not None and record["status"] != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = sync.consolidated(person, now)["color"]
    if record is None:  # no national code to note the scan on: write its row directly
        scans.record(scan_row(code_id, scan, color))
    return {"valid": True, "color": color, "name_masked": record["name_masked"] if record else None,
            "id_last4": local["id_last4"], "fever": scan["fever"], "checked_at": now, "scan_id": scan["scan_id"],
            "issuer": f"province:{province}"}
