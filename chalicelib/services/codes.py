"""Applying for a code, reading it, and issuing its QR token."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain.colors import live_color, live_reasons, next_change
from chalicelib.domain.declaration import Declaration
from chalicelib.errors import Conflict, NotFound
from chalicelib.security import pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.services import area_levels, assessment
from chalicelib.settings import get_settings
from chalicelib.store import codes


def view(record: dict[str, Any], now: int) -> dict[str, Any]:
    """What a citizen (and a checkpoint, in part) sees of a code: the live color and every live reason, its stays
    judged against the levels in force now."""
    reasons = area_levels.live_reasons(record, now)
    changes_at = next_change(reasons, now)
    return {
        "code_id": record["pk"],
        "color": live_color(reasons, now).value,
        "reasons": [r.to_dict() for r in live_reasons(reasons, now)],
        "status": record["status"],
        "name_masked": record["name_masked"],
        "id_last4": record["id_last4"],
        "declared_at": record.get("declared_at"),
        "updated_at": record["updated_at"],
        "next_change_at": changes_at,
        "version": record["version"],
    }


def apply(principal: Principal, declaration: Declaration) -> dict[str, Any]:
    """Create or update the caller's code from a declaration; safe under concurrent applies."""
    now = clock.now()

    def declare(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "declaration": declaration.model_dump(mode="json"), "declared_at": now}

    record, _ = assessment.refresh(principal.subject, now, "declaration", mutate=declare, actor="citizen",
                                   create={"name_masked": principal.name_masked, "id_last4": principal.id_last4})
    assert record is not None
    return view(record, now)


def mine(principal: Principal) -> dict[str, Any]:
    record = codes.get(pseudonyms.code_id(principal.subject), consistent=True)
    if record is None:
        raise NotFound("You have no health code yet; apply with POST /v1/codes.", code="no_code")
    return view(record, clock.now())


def qr_token(principal: Principal) -> dict[str, Any]:
    code = mine(principal)
    if code["status"] != "active":
        raise Conflict("This code is revoked.", code="code_revoked")
    ttl = get_settings().qr_token_ttl
    token, expires = qr_tokens.issue(code["code_id"], clock.now(), ttl)
    return {"token": token, "expires_at": expires, "color": code["color"], "name_masked": code["name_masked"]}
