"""What the platform keeps about the citizen asking: where their code was scanned, a summary of every kind of
item kept about them with when it expires, and an export of all of it (docs/retention.md has the schedule).

A person has at most a few thousand items (30 days of scans, trips, stays and check-ins; 180 days of audit
entries), read with one query per table, one after another (not a hot path): 11 queries, a BatchGetItem of the
venue visits their venue stays name, and a GetItem per paper code (a few).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import clock
from chalicelib.domain import divisions
from chalicelib.security import pseudonyms
from chalicelib.services import cursors
from chalicelib.services.assessment import VENUE_STAY
from chalicelib.store import (
    audit,
    checkins,
    corrections,
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
from chalicelib.store.held import Held

# every kind, in the order the summary lists them, and what each is for (the summary's `purpose`)
KINDS: dict[str, str] = {
    "code": "Your health code: its color, reasons and last declaration",
    "scans": "Where and when your code was scanned",
    "trips": "Trips you declared",
    "stays": "Areas you stayed in, from trips and check-ins",
    "venue_visits": "Venues you scanned into, as a venue's visit list names you for tracing",
    "checkins": "Your daily health check-ins",
    "medical_statuses": "Medical statuses health authorities set",
    "medical_history": "Every change of those statuses",
    "health_records": "Health records provinces sent",
    "test_results": "Nucleic-acid test results labs and provinces sent",
    "vaccinations": "Vaccinations provinces sent",
    "local_codes": "Provinces' local codes",
    "paper_codes": "Paper codes printed of your code",
    "dependants": "Family members you act for as their guardian",
    "guardians": "Guardians who act for you, or whose link you took back",
    "corrections": "Your correction requests",
    "code_history": "Each new version of your code and why",
    "access_log": "Every act on your data by anyone else",
    "correction_decisions": "Reviewers' decisions on your requests",
}


def scans_page(person: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """Where and when my code was scanned, newest first."""
    code_id = pseudonyms.code_id(person)
    rows, last = scans.page(code_id, clock.now(), limit, cursors.decode(cursor, scans.pages(code_id)))
    return {"scans": [{"scan_id": r.scan.scan_id, "at": r.scan.at, "checkpoint_id": r.scan.checkpoint_id,
                       "area": r.scan.area, "area_name": divisions.name_of(r.scan.area) if r.scan.area else None,
                       "color": r.color, "offline": r.scan.offline, "expires_at": r.expires_at} for r in rows],
            "next_cursor": cursors.encode(last)}


def _everything(person: str) -> list[Held]:
    code_id = pseudonyms.code_id(person)
    jobs: dict[str, Callable[[], list[Held]]] = {
        "code": lambda: people.held_of(code_id), "scans": lambda: scans.held_of(code_id),
        "trips": lambda: trips.held_of(person), "stays": lambda: visits.held_of(person),
        "venue_visits": lambda: venues.held_of(person, visits.refs_of(person, VENUE_STAY)),
        "paper_codes": lambda: papercodes.held_of(person), "guardians": lambda: guardians.held_of(person),
        "checkins": lambda: checkins.held_of(person), "medical": lambda: medical.held_of(person),
        "local_codes": lambda: localcodes.held_of(person), "corrections": lambda: corrections.held_of(person),
        "audit": lambda: audit.held_of(person)}
    now = clock.now()
    # TTL deletes within about two days of the moment: what has expired is not kept any more, whatever lingers
    return [h for job in jobs.values() for h in job() if h.expires_at is None or h.expires_at > now]


def summary(person: str) -> dict[str, Any]:
    """Per kind: how many items, the oldest, and when the next and the last of them expire."""
    by_kind: dict[str, list[Held]] = {}
    for h in _everything(person):
        by_kind.setdefault(h.kind, []).append(h)
    kinds = []
    for kind, purpose in KINDS.items():
        found = by_kind.get(kind, [])
        expiries = [h.expires_at for h in found if h.expires_at is not None]
        kinds.append({"kind": kind, "purpose": purpose, "count": len(found),
                      "oldest": min((h.at for h in found), default=None),
                      "next_expires_at": min(expiries, default=None), "expires_at": max(expiries, default=None)})
    return {"kinds": kinds, "as_of": clock.now(), "retention": "docs/retention.md"}


def export(person: str) -> dict[str, Any]:
    """Every item kept about me, by kind, oldest first, each with when it expires."""
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for h in sorted(_everything(person), key=lambda h: h.at):
        by_kind.setdefault(h.kind, []).append({**h.data, "expires_at": h.expires_at})
    return {"exported_at": clock.now(), "kinds": by_kind}
