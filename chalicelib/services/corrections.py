"""'I want to correct an error': citizens file, reviewers of the person's province decide once."""
from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, identifiers
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.corrections import MAX_OPEN, Override, reviewing_province
from chalicelib.domain.medical import NATIONAL
from chalicelib.domain.remit import Basis
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal
from chalicelib.services import access_log, area_levels, assessment, cursors
from chalicelib.services.versioned import versioned_update
from chalicelib.store import audit, corrections, dynamo, events, people

DECIDE_WITHIN = 72 * 3600   # docs/corrections.md: a reviewer decides within three days of the filing


def reviewer_of(principal: Principal) -> str:
    """The queue a reviewer works: its province's, or the national one."""
    return principal.province or NATIONAL


def public(correction: corrections.Correction) -> dict[str, Any]:
    c = correction
    return {"id": c.correction_id, "status": c.status, "source": c.source, "reason_code": c.reason_code, "ref": c.ref,
            "description": c.description, "evidence": c.evidence, "province": c.province,
            "created_at": c.created_at, "decided_at": c.decided_at, "decision_reason": c.decision_reason,
            "lifted_until": c.lifted_until, "override_color": c.override_color.value if c.override_color else None,
            "name_masked": c.name_masked, "due_by": c.created_at + DECIDE_WITHIN, "id_last4": c.id_last4}


def the_reason(live: list[Reason], source: str, reason_code: str, ref: str | None) -> Reason:
    """The live reason a request is about; refused when there is none, or when several are about different
    things and `ref` does not say which."""
    matching = [r for r in live if r.source == source and r.code == reason_code and (ref is None or r.ref == ref)]
    if not matching:
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "ref" if ref is not None and any(r.source == source and r.code == reason_code for r in live)
            else "reason_code",
            "message": "not one of the reasons your code shows now (GET /v1/me/risk)", "type": "unknown_reason"}])
    if len({r.ref for r in matching}) > 1:
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "ref", "type": "ambiguous_reason",
            "message": "your code shows this reason about several things: say which with `ref`, one of "
                       + ", ".join(sorted(str(r.ref) for r in matching))}])
    return matching[0]


def file(principal: Principal, source: str, reason_code: str, description: str, evidence: str | None,
         ref: str | None = None) -> tuple[int, dict[str, Any]]:
    """A new request (201), or the open one for the same reason (200): a retry makes no duplicate. It goes to
    the reviewer who owns the reason's source (domain/corrections.reviewing_province)."""
    person = principal.subject
    code = people.get(pseudonyms.code_id(person), consistent=True)
    if code is None:
        raise NotFound("You have no health code yet; apply with POST /v1/codes.", code="no_code")
    now = clock.now()
    reason = the_reason(area_levels.live_reasons(code, now), source, reason_code, ref)
    mine, _ = corrections.of_person(person, 50)
    for filed in mine:  # requests filed before open markers existed have none: found here instead
        if filed.status == "pending" and filed.source == source and filed.reason_code == reason_code \
                and filed.ref == reason.ref:
            return 200, public(filed)
    province = reviewing_province(reason, (code.declaration or {}).get("current_area"))

    def request(_: None) -> corrections.Correction:
        # a new id each attempt: a lost race may be a taken id
        return corrections.Correction("cor_" + secrets.token_hex(8), person, province, "pending", source, reason_code,
                                      reason.ref, description, evidence, code.name_masked, code.id_last4, now)

    def submit(_: None, correction: corrections.Correction) -> tuple[int, dict[str, Any]]:
        try:
            corrections.file(correction, MAX_OPEN)
            return 201, public(correction)
        except corrections.AlreadyOpen as already:
            # a concurrent or earlier filing about the same reason holds it: answer with that one
            found = corrections.get(already.correction_id) if already.correction_id else None
            if found is not None and found.status == "pending":
                return 200, public(found)
            raise   # decided between its marker's check and our read: a lost race, file anew
        except corrections.TooManyOpen:
            raise Conflict(f"You have {MAX_OPEN} open correction requests; wait for a decision first.",
                           code="too_many_open_corrections") from None

    # nothing to read first: the filing's transaction checks the marker and the open count itself
    return versioned_update(lambda: None, request, submit, "Your correction requests")


def mine(principal: Principal, limit: int, cursor: str | None) -> dict[str, Any]:
    items, last = corrections.of_person(principal.subject, limit,
                                        cursors.decode(cursor, corrections.person_pages(principal.subject)))
    return {"corrections": [public(i) for i in items], "next_cursor": cursors.encode(last)}


def review_queue(principal: Principal, status: str, limit: int, cursor: str | None) -> dict[str, Any]:
    reviewer = reviewer_of(principal)
    items, last = corrections.queue(reviewer, status, limit,
                                    cursors.decode(cursor, corrections.queue_pages(reviewer, status)))
    return {"corrections": [public(i) for i in items], "next_cursor": cursors.encode(last)}


def reviewable(principal: Principal, correction_id: str) -> corrections.Correction:
    found = corrections.get(correction_id) if identifiers.is_correction_id(correction_id) else None
    if found is None or found.province != reviewer_of(principal):
        raise NotFound("No such correction request for you to review.", code="unknown_correction")
    return found


def decide(principal: Principal, correction_id: str, approve: bool, reason: str, period_days: int | None,
           override_color: Color | None) -> dict[str, Any]:
    filed = reviewable(principal, correction_id)
    if filed.status != "pending":
        raise Conflict("This request has been decided already.", code="already_decided")
    now = clock.now()
    person = filed.person
    until = now + (period_days or 14) * days.DAY if approve else None
    decided = replace(filed, status="approved" if approve else "rejected", decided_at=now,
                      decided_by=principal.subject, decision_reason=reason, lifted_until=until,
                      override_color=override_color if approve else None)
    override = Override(correction_id, filed.source, filed.reason_code, now, until, override_color, filed.ref) \
        if until is not None else None
    event = events.put_op("correction.decided", {"correction_id": correction_id, "decision": decided.status,
                                                 "source": filed.source, "reason_code": filed.reason_code,
                                                 "lifted_until": until}, now, subject=person)
    entry = audit.decision_op(audit.Decision(person, now, correction_id, decided.status, principal.subject,
                                             reviewer_of(principal), reason))
    try:
        corrections.decide(decided, override, [event, entry])
    except dynamo.ConditionFailed:
        raise Conflict("Another reviewer decided this request first.", code="already_decided") from None
    code = None
    if approve:
        code, _ = assessment.refresh(person, now, "correction", actor=principal.subject)
    return {**public(decided), "color": code.color.value if code else None}


def history_for_review(principal: Principal, correction_id: str, limit: int) -> dict[str, Any]:
    """A reviewer reads the person's trail: an access the person sees in their access log."""
    filed = reviewable(principal, correction_id)
    trail = history(filed.person, limit, None)
    access_log.write([access_log.entry(filed.person, principal, "correction_history",
                                       Basis(note=f"reviewing correction {correction_id}"),
                                       {"history_entries": len(trail["history"])}, clock.now(), ref=correction_id)])
    return trail


def history(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The person's append-only trail: every new version of the code, with what changed and why."""
    found, last = audit.history_page(person, limit, cursors.decode(cursor, audit.pages(person, audit.HISTORY)))
    entries = [{"at": e.at, "version": e.version, "cause": e.cause, "actor": e.actor, "color_before": e.color_before,
                "color_after": e.color_after, "sources_changed": list(e.sources_changed),
                "reasons_added": list(e.reasons_added), "reasons_removed": list(e.reasons_removed)} for e in found]
    return {"history": entries, "next_cursor": cursors.encode(last)}
