"""A citizen's erasure: erase what no live purpose needs, keep what an active medical status or an open correction
requires (until it expires: docs/retention.md), record the erasure without personal data, and tell the provinces
holding a basis (`person.erased`, docs/webhooks.md).

A person has at most a few thousand items (30 days of scans, trips, stays and check-ins; 180 days of audit
entries): they go in transactions of at most 100 deletes, each all or nothing. An erasure interrupted between
two batches leaves the rest for the next request, which finishes it (deleting is idempotent); the record and
the event go last, together, in one transaction, so an erasure is recorded only once all it erased is gone.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from chalicelib import clock
from chalicelib.domain import retention
from chalicelib.domain.medical import LIFTING
from chalicelib.security import pseudonyms
from chalicelib.services.assessment import VENUE_STAY
from chalicelib.store import (
    audit,
    checkins,
    corrections,
    dynamo,
    events,
    guardians,
    localcodes,
    medical,
    papercodes,
    people,
    scans,
    trips,
    venues,
    visits,
)

EVENT = "person.erased"
BATCH = 100        # DynamoDB's limit of items per transaction


def _active_statuses(person: str, now: int) -> list[medical.Status]:
    return [s for s in medical.statuses(person)
            if s.status not in LIFTING and retention.medical_expires(s.updated_at) > now]


def _paper_codes(person: str, now: int) -> tuple[int, int | None]:
    """Revoke each live paper code of the person (so the signed revocation list names it), then delete it and its
    index entry: (how many went, until when their revocation entries stay, None if none was revoked)."""
    erased, until = 0, None
    for paper in papercodes.of_holder(person):
        live = paper.expires_at > now
        if live and paper.status == papercodes.ACTIVE:
            with contextlib.suppress(papercodes.NotActive):     # revoked meanwhile: on the list already
                papercodes.revoke(paper, now)
        if live:                     # revoked now or before: its entry stays on the list until the paper expires
            until = max(until or 0, paper.expires_at + papercodes.KEEP_AFTER_EXPIRY)
        dynamo.transact(papercodes.erase_ops(person, paper.number))
        erased += 1
    for number in set(papercodes.numbers_of(person)):     # an index entry whose paper code is gone already
        dynamo.transact(papercodes.erase_ops(person, number))
    return erased, until


def erase(person: str) -> dict[str, Any]:
    """Erase the person's data; what was erased, what was kept, why and until when."""
    from chalicelib.events import delivery  # its HTTP machinery is the events function's; imported when used

    now = clock.now()
    code_id = pseudonyms.code_id(person)
    audience = delivery.interested_provinces(person)       # read before their grounds (local codes, accesses) go
    active = _active_statuses(person, now)
    open_requests = corrections.state(person).open
    code = people.get(code_id, consistent=True)
    kept: list[dict[str, Any]] = []
    # what a live purpose still needs: an active status keeps the statuses and the code that shows them; an
    # open request keeps the requests and the code whose reason it is about
    if active:
        until = max(retention.medical_expires(s.updated_at) for s in active)
        kept.append({"kind": "medical", "why": "active_medical_status",
                     "detail": "A health authority's status is in force: it is kept until it is lifted or expires.",
                     "until": until})
    if open_requests:
        kept.append({"kind": "corrections", "why": "open_correction",
                     "detail": "A correction request of yours is being reviewed: it is kept until decided and expired.",
                     "until": retention.correction_expires(now)})
    if kept and code is not None:
        kept.append({"kind": "code", "why": kept[0]["why"],
                     "detail": "Your code shows the reasons kept above.", "until": code.expires_at})
    keeping = {k["kind"] for k in kept}
    # before the stays go: they name the venues whose visit lists name the person
    venue_refs = visits.refs_of(person, VENUE_STAY)
    erased: dict[str, int] = {}
    erased["paper_codes"], revoked_until = _paper_codes(person, now)
    erased["dependants"], erased["guardians"] = guardians.erase(person, code_id)
    erasers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "scans": lambda: scans.erase_ops(code_id), "trips": lambda: trips.erase_ops(person),
        "venue_visits": lambda: venues.erase_visit_ops(person, venue_refs),
        "stays": lambda: visits.erase_ops(person), "checkins": lambda: checkins.erase_ops(person),
        "local_codes": lambda: localcodes.erase_ops(person), "audit": lambda: audit.erase_ops(person)}
    if "medical" not in keeping:
        erasers["medical"] = lambda: medical.erase_ops(person)
    if "corrections" not in keeping:
        erasers["corrections"] = lambda: corrections.erase_ops(person)
    if "code" not in keeping:
        erasers["code"] = lambda: people.erase_ops(code_id)
    for kind, ops_of in erasers.items():
        ops = ops_of()
        for start in range(0, len(ops), BATCH):
            dynamo.transact(ops[start:start + BATCH])
        erased[kind] = len(ops)
    # what stays that is not the person's data, or not theirs: said in the answer, not in the event's `kept`
    if revoked_until is not None:
        kept.append({"kind": "paper_code_revocations", "why": "revocation_list",
                     "detail": "The numbers of your revoked paper codes stay on the signed revocation list, with no "
                               "personal data, so that offline checkpoints refuse them until they would have expired.",
                     "until": revoked_until})
    if erased["dependants"]:
        kept.append({"kind": "dependants_data", "why": "not_yours",
                     "detail": "Your dependants' codes, paper codes and data are theirs: they stay, and so do the "
                               "entries of their access logs that say what you did for them.", "until": None})
    ref = pseudonyms.erasure_ref(person)
    told = sorted(audience)
    dynamo.transact([
        audit.erasure_op(ref, now, erased, {k["kind"]: 1 for k in kept}),
        # the audience is fixed now: the grounds that gave provinces a basis were just erased
        events.put_op(EVENT, {"erased_at": now, "kept": sorted(keeping), "audience": audience}, now, subject=person),
    ])
    return {"erased": [{"kind": kind, "count": count} for kind, count in erased.items()], "kept": kept,
            "erased_at": now, "reference": ref, "provinces_told": told}
