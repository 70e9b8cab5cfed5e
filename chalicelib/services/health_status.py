"""Health authorities set a person's medical status, identified by ID number in the body, within their remit.

Each issuer keeps its own status of a person (a province's authority, or a national-level one), so one
province's 'cleared' never lifts another's 'confirmed' (domain/medical.effective_status). An authority
acts on people connected to its province (domain/remit.py) or states a basis; either way the act goes
into the person's access log, and the answer says nothing about the person the caller did not send.
"""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain import days, remit
from chalicelib.domain.documents import Document
from chalicelib.domain.medical import NATIONAL, MedicalStatus
from chalicelib.domain.stays import decode_stays
from chalicelib.errors import Forbidden
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal
from chalicelib.services import access_log, assessment
from chalicelib.services.versioned import versioned_update
from chalicelib.store import audit, events, localcodes, medical, people, visits


def connection(person: str, province: str, now: int) -> remit.Connection | None:
    """What ties the person to the province in the window, from their code (declared area, stays), their local
    codes and, for someone without a code, their stays."""
    code = people.get(pseudonyms.code_id(person), consistent=True)
    if code is not None:
        declared = (code.declaration or {}).get("current_area")
        stays = [v.area for v in decode_stays(code.facts.stays) if v.day >= days.window_start(now)]
    else:
        declared = None
        stays = [v.area for v in visits.recent(person, days.window_start(now).isoformat(), now)]
    found = remit.connection(province, declared, stays, [])
    if found is None:   # the local codes only when nothing else ties them: one read fewer for most people
        found = remit.connection(province, None, [], [c.province for c in localcodes.of_person(person)])
    return found


def set_status(principal: Principal, document: Document, status: MedicalStatus, note: str | None,
               stated: remit.BasisKind | None = None, basis_note: str | None = None) -> dict[str, Any]:
    now = clock.now()
    person = pseudonyms.document_ref(document)
    province = principal.province
    found = connection(person, province, now) if province is not None else None
    basis = remit.basis(province, found, stated, basis_note)
    if basis is None:
        # the refusal itself says "no tie known": the person sees that it was asked (an act with no basis)
        access_log.write([access_log.entry(person, principal, "medical_status_refused", None,
                                           {"status": status.value}, now)])
        raise Forbidden("This person is not connected to your province in the last 14 days as far as the "
                        "platform knows: state the basis you act on (`basis`, docs/provinces.md).",
                        code="basis_required")
    issuer = province or NATIONAL

    def change(current: medical.Status | None) -> medical.Status:
        return medical.Status(person, issuer, status, now, principal.subject, province, basis, now,
                              (current.version + 1) if current else 1)

    def save(current: medical.Status | None, new: medical.Status) -> None:
        history = medical.StatusChange(person, now, status, current.status if current else None, principal.subject,
                                       province, issuer, note, basis)
        event = events.put_op("health_status.changed", {"status": status.value, "issuer": issuer}, now,
                              subject=person)
        logged = audit.access_op(access_log.entry(person, principal, "medical_status", basis,
                                                  {"status": status.value}, now))
        medical.set_status(new, history, current.version if current else None, [event, logged])

    versioned_update(lambda: medical.status_of(person, issuer), change, save, "The status")
    # recompute now so the person's code shows it at once; the event's unit repeats it if we crash here
    assessment.refresh(person, now, "medical_status", actor=principal.subject)
    return {"status": status.value, "since": now, "id_last4": document.last_four, "issuer": issuer,
            "basis": basis.to_dict()}
