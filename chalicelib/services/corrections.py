"""'I want to correct an error': citizens file, reviewers of the person's province decide once."""
from __future__ import annotations

import secrets as random
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, identifiers
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.corrections import MAX_OPEN, reviewing_province
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


def public(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["pk"], "status": item["status"], "source": item["source"], "reason_code": item["reason_code"],
            "ref": item.get("ref"),
            "description": item["description"], "evidence": item.get("evidence"), "province": item["province"],
            "created_at": item["created_at"], "decided_at": item.get("decided_at"),
            "decision_reason": item.get("decision_reason"), "lifted_until": item.get("lifted_until"),
            "override_color": item.get("override_color"), "name_masked": item.get("name_masked"),
            "due_by": int(item["created_at"]) + DECIDE_WITHIN,
            "id_last4": item.get("id_last4")}


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
    for item in mine:  # requests filed before open markers existed have none: found here instead
        if item["status"] == "pending" and item["source"] == source and item["reason_code"] == reason_code \
                and item.get("ref") == reason.ref:
            return 200, public(item)
    province = reviewing_province(reason, (code.declaration or {}).get("current_area"))

    def request(_: None) -> dict[str, Any]:
        correction_id = "cor_" + random.token_hex(8)   # a new one each attempt: a lost race may be a taken id
        return {"pk": correction_id, "person": person, "province": province, "status": "pending", "source": source,
                "reason_code": reason_code, "ref": reason.ref, "description": description, "evidence": evidence,
                "name_masked": code.name_masked, "id_last4": code.id_last4, "created_at": now,
                "queue_key": f"{province}#pending", "queue_sort": f"{now:010d}#{correction_id}"}

    def submit(_: None, item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            corrections.file(item, MAX_OPEN)
            return 201, public(item)
        except corrections.AlreadyOpen as already:
            # a concurrent or earlier filing about the same reason holds it: answer with that one
            found = corrections.get(already.correction_id) if already.correction_id else None
            if found is not None and found["status"] == "pending":
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


def reviewable(principal: Principal, correction_id: str) -> dict[str, Any]:
    item = corrections.get(correction_id) if identifiers.is_correction_id(correction_id) else None
    if item is None or item["province"] != reviewer_of(principal):
        raise NotFound("No such correction request for you to review.", code="unknown_correction")
    return item


def decide(principal: Principal, correction_id: str, approve: bool, reason: str, period_days: int | None,
           override_color: Color | None) -> dict[str, Any]:
    item = reviewable(principal, correction_id)
    if item["status"] != "pending":
        raise Conflict("This request has been decided already.", code="already_decided")
    now = clock.now()
    person = item["person"]
    decision: dict[str, Any] = {"status": "approved" if approve else "rejected", "decided_at": now,
                                "decided_by": principal.subject, "decision_reason": reason,
                                "queue_key": f"{item['province']}#{'approved' if approve else 'rejected'}"}
    override = None
    if approve:
        until = now + (period_days or 14) * days.DAY
        decision["lifted_until"] = until
        if override_color is not None:
            decision["override_color"] = override_color.value
        override = {"correction_id": correction_id, "source": item["source"], "code": item["reason_code"],
                    "ref": item.get("ref"), "approved_at": now, "until": until,
                    "color": override_color.value if override_color else None}
    event = events.put_op("correction.decided", {"correction_id": correction_id, "decision": decision["status"],
                                                 "source": item["source"], "reason_code": item["reason_code"],
                                                 "lifted_until": decision.get("lifted_until")}, now, subject=person)
    entry = audit.put_op({"pk": person, "sk": f"correction#{now:010d}#{correction_id}", "kind": "correction",
                          "correction_id": correction_id, "decision": decision["status"], "by": principal.subject,
                          "province": reviewer_of(principal), "reason": reason, "at": now})
    try:
        corrections.decide(correction_id, person, decision, override, [event, entry, *corrections.close_ops(item)])
    except dynamo.ConditionFailed:
        raise Conflict("Another reviewer decided this request first.", code="already_decided") from None
    code = None
    if approve:
        code, _ = assessment.refresh(person, now, "correction", actor=principal.subject)
    return {**public({**item, **decision}), "color": code.color.value if code else None}


def history_for_review(principal: Principal, correction_id: str, limit: int) -> dict[str, Any]:
    """A reviewer reads the person's trail: an access the person sees in their access log."""
    item = reviewable(principal, correction_id)
    trail = history(item["person"], limit, None)
    access_log.write([access_log.entry(item["person"], principal, "correction_history",
                                       Basis(note=f"reviewing correction {correction_id}"),
                                       {"history_entries": len(trail["history"])}, clock.now(), ref=correction_id)])
    return trail


def history(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The person's append-only trail: every new version of the code, with what changed and why."""
    start = cursors.decode(cursor, audit.pages(person, "history"))
    items, last = audit.of_person(person, "history", limit, start)
    entries = [{k: i.get(k) for k in ("at", "version", "cause", "actor", "color_before", "color_after",
                                       "sources_changed", "reasons_added", "reasons_removed")} for i in items]
    return {"history": entries, "next_cursor": cursors.encode(last)}

