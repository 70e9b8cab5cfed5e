"""A checkpoint verifies a scanned QR token: signature, expiry, then the live color; the scan is recorded.

A cold verify container imports only what the common request needs: a national QR token from a checkpoint
without an entry rule. Each rarer path imports its own modules on first use, at the top of the function that
begins it (a token that is not ours: `other_token`, then `verify_provincial` or `verify_paper`; a checkpoint's
rule: `admission`, and `access.entry_rule` for its token), so that they stay off the verify function's cold
start (docs/BENCHMARKS.md; tests/test_function_loads.py pins it).
"""
from __future__ import annotations

import contextlib
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import limits
from chalicelib.domain.colors import Color, live_color
from chalicelib.domain.health_summary import HealthSummary
from chalicelib.domain.medical import FEVER_CELSIUS
from chalicelib.security import pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.services import area_levels, throttle
from chalicelib.settings import get_settings
from chalicelib.store import dynamo, people, scans

DAY = 86400


def _refusal(reason: str, message: str, now: int) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "checked_at": now}


def verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
           scan_key: str | None = None) -> dict[str, Any]:
    """One token check and one DynamoDB round trip: the scan is noted on the code by the same
    UpdateItem that reads it, and the scans table is filled from the stream. The code's stays are
    judged against the container's copy of the area levels (services/area_levels.py). The checkpoint's
    limit is counted in the container; the write of its count, one in 50, overlaps the UpdateItem."""
    counted = throttle.check_sampled(limits.VERIFICATIONS_PER_CHECKPOINT, principal.subject)
    try:
        return _verify(principal, token, checkpoint_id, temperature, scan_key)
    finally:
        counted()


def _verify(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
            scan_key: str | None) -> dict[str, Any]:
    settings = get_settings()
    now = clock.now()
    try:
        code_id = qr_tokens.verify(token, settings.qr_token_ttl, now)
    except qr_tokens.TokenRejected as rejected:
        return other_token(principal, token, rejected, checkpoint_id, temperature, now, scan_key)
    scan = new_scan(principal, checkpoint_id, temperature, now, scan_key)
    levels = area_levels.prefetch()   # read alongside the scan's write when the container's copy is too old
    code = people.record_scan(code_id, scan)
    if code is None:
        return _refusal("unknown_code", "No such code exists.", now)
    if code.status != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = live_color(area_levels.live_reasons(code, now, levels()), now)
    return {"valid": True, "color": color.value, "name_masked": code.name_masked, "id_last4": code.id_last4,
            "fever": scan.fever, "checked_at": now, "scan_id": scan.scan_id, "issuer": "national",
            **admission(principal, color, code.health, now)}


def other_token(principal: Principal, token: str, rejected: qr_tokens.TokenRejected, checkpoint_id: str,
                temperature: float | None, now: int, scan_key: str | None = None) -> dict[str, Any]:
    """A token that is not a valid national QR token: a province's own, or a paper code (scanned, or its number
    typed), else the refusal `rejected` gave."""
    # cold start: province and paper tokens load with the first token that is not ours
    from chalicelib.security import paper_tokens, province_tokens

    # our tokens carry no `iss`; a province's do, and its kids may happen to look like ours
    if rejected.reason in ("unknown_key", "bad_signature") and province_tokens.issuer_province(token) is not None:
        return verify_provincial(principal, token, checkpoint_id, temperature, now, scan_key)
    if rejected.reason in ("unknown_key", "malformed") and (len(token) == 12 or paper_tokens.is_paper(token)):
        return verify_paper(principal, token, checkpoint_id, temperature, now, scan_key)
    return _refusal(rejected.reason, rejected.message, now)


def admission(principal: Principal, color: Color, health: HealthSummary, now: int) -> dict[str, Any]:
    """What the checkpoint's entry rule (carried in its token) says: admit or not, and each unmet requirement.
    The checkpoint sees only what its rule asks about: the bucket of the latest negative test if the rule needs
    one, the dose count if it needs doses; nothing without a rule."""
    rule = principal.rule
    if rule is None:
        return {}
    # cold start: the entry rules load with the first checkpoint that carries one
    from chalicelib.domain.lab_results import judge, negative_within

    unmet = judge(rule, color, health, now)
    answer: dict[str, Any] = {"admit": not unmet, "rule_id": rule.rule_id,
                              "unmet": [{"code": u.code, "message": u.message, "message_en": u.message_en}
                                        for u in unmet]}
    if rule.negative_test_within_hours is not None:
        answer["negative_within"] = negative_within(health.negative_at, now)
    if rule.min_doses is not None:
        answer["doses"] = health.doses
    return answer


def verify_paper(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
                 now: int, scan_key: str | None = None) -> dict[str, Any]:
    """A paper code, scanned or its number typed: the live color of the code it names, as for any code, and
    the paper code's own validity (docs/identity.md#paper-codes)."""
    from chalicelib.services import paper_codes  # cold start: paper codes are rare, not on a QR token's path

    scan = new_scan(principal, checkpoint_id, temperature, now, scan_key)
    levels = area_levels.prefetch()
    refusal, code, paper = paper_codes.verify(token, now, lambda code_id: people.record_scan(code_id, scan))
    if refusal is not None:
        return refusal
    assert code is not None and paper is not None   # paper_codes.verify gives both when it refuses nothing
    if code.status != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = live_color(area_levels.live_reasons(code, now, levels()), now)
    return {"valid": True, "color": color.value, "name_masked": code.name_masked, "id_last4": code.id_last4,
            "fever": scan.fever, "checked_at": now, "scan_id": scan.scan_id, "issuer": "national",
            "paper": {"number": paper.number, "valid_until": paper.expires_at, "color_at_issue": paper.color,
                      "issued_at": paper.issued_at},
            **admission(principal, color, code.health, now)}   # a paper code meets a gate's rule like any code


def new_scan(principal: Principal, checkpoint_id: str, temperature: float | None, now: int,
             scan_key: str | None = None, issuer: str = "national") -> scans.Scan:
    """The scan's id is random, or derived from the device's scan key when it sent one (one row per key)."""
    scan_id = secrets.token_urlsafe(8) if scan_key is None else scans.keyed_id(principal.subject, scan_key)
    return scans.Scan(scan_id, now, checkpoint_id, principal.subject, principal.area, temperature,
                      temperature is not None and temperature >= FEVER_CELSIUS, issuer, keyed=scan_key is not None)


def record_row(code_id: str, scan: scans.Scan, color: str) -> None:
    """The scans table's row for a scan, kept for the retention period. ConditionFailed if it is there already."""
    scans.record(scans.Row(code_id, scan, color, scan.at + get_settings().scan_retention_days * DAY))


def verify_provincial(principal: Principal, token: str, checkpoint_id: str, temperature: float | None,
                      now: int, scan_key: str | None = None) -> dict[str, Any]:
    """Mutual recognition: a province's own token, checked against its registered keys, answered
    with the live consolidated color."""
    # cold start: a province's token is rare, not on a national QR token's path
    from chalicelib.security import province_tokens
    from chalicelib.services import sync
    from chalicelib.store import localcodes

    try:
        province, local_code_id = province_tokens.verify(token, now)
    except qr_tokens.TokenRejected as rejected:
        return _refusal(rejected.reason, rejected.message, now)
    local = localcodes.holder(province, local_code_id) if province_tokens.names_a_local_code(local_code_id) else None
    if local is None:
        return _refusal("unknown_code", "The province has not shared this local code with the platform.", now)
    person = local.person
    code_id = pseudonyms.code_id(person)
    scan = new_scan(principal, checkpoint_id, temperature, now, scan_key, issuer=f"province:{province}")
    code = people.record_scan(code_id, scan)
    if code is not None and code.status != "active":
        return _refusal("revoked", "This code has been revoked.", now)
    color = sync.consolidated(person, now)["color"]
    if code is None:  # no national code to note the scan on: write its row directly
        with contextlib.suppress(dynamo.ConditionFailed):   # its key's row is there: the offline upload came first
            record_row(code_id, scan, color)
    return {"valid": True, "color": color, "name_masked": code.name_masked if code else None,
            "id_last4": local.id_last4, "fever": scan.fever, "checked_at": now, "scan_id": scan.scan_id,
            "issuer": f"province:{province}",
            **admission(principal, Color(color), code.health if code else HealthSummary(), now)}
