"""Applying for a code, reading it, and issuing its QR token."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib import clock
from chalicelib.domain.colors import live_color, live_reasons, next_change
from chalicelib.domain.declaration import Declaration
from chalicelib.domain.lab_results import HealthSummary, negative_within
from chalicelib.errors import Conflict, Gone, NotFound
from chalicelib.security import keyring, pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.services import area_levels, assessment
from chalicelib.settings import get_settings
from chalicelib.store import people


def view(code: people.Code, now: int) -> dict[str, Any]:
    """What a citizen (and a checkpoint, in part) sees of a code: the live color and every live reason, its stays
    judged against the levels in force now."""
    reasons = area_levels.live_reasons(code, now)
    changes_at = next_change(reasons, now)
    return {
        "code_id": code.code_id,
        "color": live_color(reasons, now).value,
        "reasons": [r.to_dict() for r in live_reasons(reasons, now)],
        "status": code.status,
        "name_masked": code.name_masked,
        "id_last4": code.id_last4,
        "declared_at": code.declared_at,
        "updated_at": code.updated_at,
        "next_change_at": changes_at,
        "version": code.version,
        "health": health_view(code.health, now),
    }


def health_view(health: HealthSummary, now: int) -> dict[str, Any]:
    """The summary a code shows: the bucket of the latest negative test's sample age, and the dose count."""
    return {"negative_within": negative_within(health.negative_at, now), "doses": health.doses}


def still_issuing() -> None:
    """Refuse once the stage's emergency has ended (ops `emergency end`). The flag is in the secrets bundle, which
    every request has loaded already (once per container, re-read every 5 minutes): no extra call."""
    if keyring.bundle().emergency_ended_at is not None:
        raise Gone("The emergency has ended: health codes are no longer issued.")


def apply(principal: Principal, declaration: Declaration) -> dict[str, Any]:
    """Create or update the caller's code from a declaration; safe under concurrent applies."""
    still_issuing()
    now = clock.now()

    def declare(code: people.Code) -> people.Code:
        return replace(code, declaration=declaration.model_dump(mode="json"), declared_at=now)

    # a citizen's session token carries both (sessions.py issues it); "" only if one without them got this far
    first = {"name_masked": principal.name_masked or "", "id_last4": principal.id_last4 or ""}
    code, _ = assessment.refresh(principal.subject, now, "declaration", mutate=declare, actor="citizen", create=first)
    assert code is not None
    return view(code, now)


def mine(principal: Principal) -> dict[str, Any]:
    code = people.get(pseudonyms.code_id(principal.subject), consistent=True)
    if code is None:
        raise NotFound("You have no health code yet; apply with POST /v1/codes.", code="no_code")
    return view(code, clock.now())


def qr_token(principal: Principal) -> dict[str, Any]:
    still_issuing()
    code = mine(principal)
    if code["status"] != "active":
        raise Conflict("This code is revoked.", code="code_revoked")
    ttl = get_settings().qr_token_ttl
    # the live color of this moment, signed: what a checkpoint reads offline (never online: services/verifications)
    token, expires = qr_tokens.issue(code["code_id"], clock.now(), ttl, color=code["color"])
    return {"token": token, "expires_at": expires, "color": code["color"], "name_masked": code["name_masked"]}
