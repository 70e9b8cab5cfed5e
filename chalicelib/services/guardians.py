"""Family members: a guardian adds dependants and acts for them; a dependant sees it all and can take over.

Every addition, removal and act for a dependant writes an entry to the dependant's access log
(services/access_log.py): the addition and a guardian's removal in the same transaction, an act before it runs.
A guardian acting for a dependant is, for the operation, the dependant (`acting_principal`): their code, trips and
QR are the dependant's own, and a checkpoint sees an ordinary code.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, dependants, identifiers, names
from chalicelib.domain.dependants import Relationship
from chalicelib.domain.documents import Document
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal, Role
from chalicelib.services import access_log
from chalicelib.store import audit, guardians

ADDED, REMOVED, ACTED = "guardian_added", "guardian_removed", "guardian_act"


def _field_error(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    return ValidationFailed("The request has invalid fields.", [{"field": field, "message": message, "type": kind}])


def _entry(dependant: str, guardian: Principal, action: str, now: int, returned: dict[str, Any]) -> audit.AccessEntry:
    """The dependant's access-log entry of what a guardian did: `client_id` is the guardian's id."""
    acting = Principal(role=Role.CITIZEN, subject=pseudonyms.code_id(guardian.subject))
    entry = access_log.entry(dependant, acting, action, None,
                             {"guardian_name_masked": guardian.name_masked, **returned}, now,
                             ref=pseudonyms.code_id(guardian.subject))
    return audit.AccessEntry(entry.person, entry.at, entry.access_id, entry.client_id, "guardian", None,
                             entry.action, None, entry.returned, entry.ref, entry.expires_at)


def public_link(link: guardians.Link) -> dict[str, Any]:
    return {"dependant_id": link.dependant_id, "name_masked": link.name_masked, "id_last4": link.id_last4,
            "document_type": link.document_type, "relationship": link.relationship, "group": link.group,
            "added_at": link.added_at}


def add(caller: Principal, document: Document, name: str, relationship: Relationship, born: dt.date) -> dict[str, Any]:
    now = clock.now()
    dependant = pseudonyms.document_ref(document)
    if dependant == caller.subject:
        raise _field_error("id_number", "is your own document: a guardian cannot be their own dependant")
    try:
        group = dependants.group_of(document, born, days.today(now))
    except dependants.NotEligible as refused:
        raise _field_error(refused.field, str(refused)) from None
    # the group is kept, not the birth date: the platform keeps no more of a person than it needs
    link = guardians.Link(caller.subject, dependant, pseudonyms.code_id(dependant), names.mask_name(name),
                          document.last_four, document.kind.value, relationship.value, group.value, now)
    side = guardians.Guardian(dependant, caller.subject, pseudonyms.code_id(caller.subject), caller.name_masked or "",
                              relationship.value, now, guardians.ACTIVE)
    entry = _entry(dependant, caller, ADDED, now, {"relationship": relationship.value})
    try:
        guardians.add(link, side, dependants.MAX_DEPENDANTS, dependants.MAX_GUARDIANS, audit.access_op(entry))
    except guardians.AlreadyLinked:
        raise Conflict("This person is your dependant already, or has taken their code back from you.",
                       code="already_linked") from None
    except guardians.LimitReached as reached:
        if reached.which == "dependants":
            raise Conflict(f"You hold {dependants.MAX_DEPENDANTS} dependants already.",
                           code="too_many_dependants") from None
        raise Conflict(f"This person has {dependants.MAX_GUARDIANS} guardians already.",
                       code="too_many_guardians") from None
    return public_link(link)


def of_guardian(caller: Principal) -> dict[str, Any]:
    return {"dependants": [public_link(link) for link in guardians.dependants(caller.subject)]}


def _link_of(caller: Principal, dependant_id: str) -> guardians.Link:
    found = guardians.link(caller.subject, dependant_id) if identifiers.is_code_id(dependant_id) else None
    if found is None:
        raise NotFound("No such dependant of yours.", code="unknown_dependant")
    return found


def remove(caller: Principal, dependant_id: str) -> None:
    """The guardian stops acting for a dependant."""
    found = _link_of(caller, dependant_id)
    entry = _entry(found.dependant, caller, REMOVED, clock.now(), {"relationship": found.relationship})
    if not guardians.remove_by_guardian(found, pseudonyms.code_id(caller.subject), audit.access_op(entry)):
        raise NotFound("No such dependant of yours.", code="unknown_dependant")


def acting_principal(caller: Principal, dependant_id: str) -> tuple[Principal, guardians.Link]:
    """Who the guardian is for an operation done for a dependant: the dependant, as their own session would be."""
    found = _link_of(caller, dependant_id)
    return Principal(role=Role.CITIZEN, subject=found.dependant, name_masked=found.name_masked,
                     id_last4=found.id_last4, document_type=found.document_type,
                     guardian_id=pseudonyms.code_id(caller.subject)), found


def record_act(guardian: Principal, link: guardians.Link, operation: str) -> None:
    """The dependant's access-log entry of an operation a guardian is about to do for them."""
    access_log.write([_entry(link.dependant, guardian, ACTED, clock.now(),
                             {"operation": operation, "relationship": link.relationship})])


def record_acts(guardian: Principal, links: list[guardians.Link], operation: str, returned: dict[str, Any]) -> None:
    """The entries of one operation a guardian is about to do for several dependants at once (a venue scan with
    family members), each in its dependant's access log, written together before it runs."""
    now = clock.now()
    access_log.write([_entry(link.dependant, guardian, ACTED, now,
                             {"operation": operation, "relationship": link.relationship, **returned})
                      for link in links])


def public_guardian(found: guardians.Guardian) -> dict[str, Any]:
    return {"guardian_id": found.guardian_id, "name_masked": found.name_masked, "relationship": found.relationship,
            "added_at": found.added_at, "status": found.status}


def of_dependant(caller: Principal) -> dict[str, Any]:
    """The dependant's own view: who holds (or held) their code."""
    return {"guardians": [public_guardian(g) for g in guardians.guardians(caller.subject)]}


def take_back(caller: Principal, guardian_id: str) -> dict[str, Any]:
    """The dependant removes a guardian: it can no longer act for them, nor add them again."""
    found = guardians.guardian(caller.subject, guardian_id) if identifiers.is_code_id(guardian_id) else None
    if found is None or found.status != guardians.ACTIVE or \
            not guardians.remove_by_dependant(found, pseudonyms.code_id(caller.subject), clock.now()):
        raise NotFound("No such guardian of yours.", code="unknown_guardian")
    return public_guardian(guardians.Guardian(found.dependant, found.guardian, found.guardian_id, found.name_masked,
                                              found.relationship, found.added_at, guardians.REMOVED))
