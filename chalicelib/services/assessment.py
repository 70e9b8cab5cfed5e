"""Recompute a person's code from every source: on apply, when a source changes, and when a window closes.

Gathering reads the person's sources (a handful of key-addressed reads), the pure
`domain.risk.assess` decides, and the new version is written with a version
guard; a change of color writes its `person.color_changed` event in the same
transaction.
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from chalicelib.domain import days, retention
from chalicelib.domain.areas import LevelPeriod, Visit, governing_areas
from chalicelib.domain.colors import Color, live_color, live_reasons, next_change
from chalicelib.domain.declaration import Declaration
from chalicelib.domain.exposures import Exposure, Trip, voyage
from chalicelib.domain.lab_results import HealthSummary
from chalicelib.domain.medical import StatusEntry
from chalicelib.domain.risk import RiskInputs, assess, health_summary, stay_facts
from chalicelib.domain.stays import SOURCE as AREA, StayFacts, area_reasons
from chalicelib.domain.transport import NUMBERED
from chalicelib.domain.venues import VenueExposure, VenueVisit
from chalicelib.lazy import Lazy
from chalicelib.security import pseudonyms
from chalicelib.services.versioned import versioned_update
from chalicelib.store import (
    areas,
    audit,
    checkins,
    corrections,
    events,
    exposures,
    localcodes,
    medical,
    people,
    trips,
    venues,
    visits,
)

# one pool of readers for every gather of the container: with the fan-out's 8 workers (events/fanout.py)
# waiting on it, at most 16 + 8 calls are in flight, within the DynamoDB client's 32 pooled connections
# (store/dynamo.py)
READ_WORKERS = 16
_readers: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=READ_WORKERS,
                                                                     thread_name_prefix="gather"))
Mutation = Callable[[people.Code], people.Code]
Plan = tuple[people.Code, people.Sources, StayFacts, HealthSummary]   # what a refresh writes
VENUE_STAY = "venue"      # the source of a venue visit's stay (services/venues.py)


def _together(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent reads at once and wait for all: each waits on the network, not the CPU.

    Each job runs in a copy of the caller's context, so its log lines keep the request id."""
    readers = _readers.get()
    futures = {name: readers.submit(contextvars.copy_context().run, job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def gather(person: str, code: people.Code | None, now: int) -> RiskInputs:
    """Every source of the person, read as nine independent chains at once (areas need the stays,
    exposures the trips): about 2 round trips of waiting where one after another took 11."""
    since_day = days.window_start(now).isoformat()

    def stays_and_levels() -> tuple[list[Visit], dict[str, list[LevelPeriod]], list[VenueVisit],
                                    list[VenueExposure]]:
        recent = visits.recent(person, since_day, now)
        stays = [stay.visit for stay in recent]
        needed = sorted({g for stay in stays for g in governing_areas(stay.area)})
        found = areas.periods_of(needed) if needed else {}
        # venue visits are stays too (services/venues.py); their venues' exposures ride on the venue records,
        # one BatchGetItem for every venue visited in the window, read only by people who scanned a venue
        scanned = [VenueVisit(stay.ref.split("#", 1)[0], stay.created_at) for stay in recent
                   if stay.source == VENUE_STAY]
        visited = venues.many({v.venue_id for v in scanned}) if scanned else {}
        return (stays, {area: list(found.get(area, ())) for area in needed}, scanned,
                [e for venue in visited.values() for e in venue.exposures])

    def trips_and_exposures() -> tuple[list[Trip], list[Exposure]]:
        trip_list = [declared.trip for declared in trips.recent(person, since_day, now)]
        voyages = sorted({voyage(t.number, t.day) for t in trip_list if t.mode in NUMBERED and t.number})
        exposure_list = [e for v in voyages for e in exposures.on(v)]
        return trip_list, exposure_list

    read = _together({
        "statuses": lambda: medical.statuses(person),
        "stays": stays_and_levels,
        "trips": trips_and_exposures,
        "checkins": lambda: checkins.recent(person, since_day, now),
        "records": lambda: medical.records_of(person),
        "local": lambda: localcodes.of_person(person),
        "corrections": lambda: corrections.state(person),
        "tests": lambda: medical.tests_of(person, now),
        "vaccinations": lambda: medical.vaccinations_of(person, now),
    })
    stays, levels, venue_visits, venue_exposures = read["stays"]
    trip_list, exposure_list = read["trips"]
    declaration = Declaration.model_validate(code.declaration) if code and code.declaration else None
    # a source without an end of its own ends when its item expires (domain/retention.py): its reason ends then,
    # so the sweeper looks at the code that moment and finds it green, rather than the code keeping a reason
    # whose source is gone
    statuses = [StatusEntry(s.status, s.since, retention.medical_expires(s.updated_at), s.issuer)
                for s in read["statuses"]]
    statuses += [StatusEntry(r.status, r.issued_at, r.valid_until or retention.medical_expires(r.synced_at),
                             r.province) for r in read["records"]]
    local = [replace(c.local, valid_until=c.valid_until or retention.local_code_expires(c.synced_at, None))
             for c in read["local"]]
    return RiskInputs(
        overrides=list(read["corrections"].overrides),
        declaration=declaration, declared_at=code.declared_at if code else None,
        statuses=statuses, local_codes=local,
        visits=stays, levels=levels,
        trips=trip_list, exposures=exposure_list, checkins=read["checkins"],
        lab_results=[t.lab_result for t in read["tests"]], doses=[v.dose for v in read["vaccinations"]],
        venue_visits=venue_visits, venue_exposures=venue_exposures)


def history_entry(before: people.Code | None, after: people.Code, cause: str, actor: str | None,
                  now: int) -> audit.HistoryEntry:
    """The audit trail's record of one new version: what changed in which source, and why."""
    def codes_of(code: people.Code | None) -> dict[str, set[str]]:
        return {s: {r.code for r in rs} for s, rs in (code.sources if code else {}).items()}

    old, new = codes_of(before), codes_of(after)
    changed = sorted(s for s in set(old) | set(new) if (before.sources if before else {}).get(s)
                     != after.sources.get(s))
    return audit.HistoryEntry(after.person, now, after.version, cause, actor or "system",
                              before.color.value if before else None, after.color.value, tuple(changed),
                              tuple(sorted(f"{s}:{c}" for s in new for c in new[s] - old.get(s, set()))),
                              tuple(sorted(f"{s}:{c}" for s in old for c in old[s] - new.get(s, set()))))


def _store(current: people.Code | None, base: people.Code, sources: people.Sources, facts: StayFacts, now: int,
           cause: str, actor: str | None, declared: bool, health: HealthSummary | None = None
           ) -> tuple[people.Code, bool]:
    """Write the version that `sources` and `facts` make, unless it is what is stored: (the code, written).

    A new color writes its `person.color_changed` event and a change of reasons its history entry, in the
    same transaction. ConditionFailed when another writer got in first."""
    reasons = [r for rs in sources.values() for r in rs]
    color = live_color(reasons, now)
    due_at = next_change(reasons, now)
    facts = people.kept_facts(facts)
    health = base.health if health is None else health
    assessed_alike = current is not None and not declared and sources == current.sources and color == current.color
    if current is not None and assessed_alike and facts == current.facts and health == current.health:
        if due_at != current.due_at:
            # nothing changed but the next due moment: no new version, no event
            people.reschedule(current.code_id, current.version, due_at)
        return current, False
    code = replace(base, sources=sources, color=color, updated_at=now, version=base.version + 1, due_at=due_at,
                   facts=facts, health=health)
    previous = current.color if current else None
    ops = []
    if previous != color:
        # `version` orders a person's changes for receivers that get them out of order
        ops.append(events.put_op("person.color_changed",
                                 {"code_id": code.code_id, "color": color.value,
                                  "previous_color": previous.value if previous else None,
                                  "version": code.version, "cause": cause,
                                  "reasons": list(dict.fromkeys(r.code for r in live_reasons(reasons, now)))},
                                 now, subject=code.person))
    if not assessed_alike:   # only the stays or the health summary changed: nothing to tell the history
        ops.append(audit.history_op(history_entry(current, code, cause, actor, now)))
    people.save(code, current.version if current else None, ops)
    return code, True


def assessed(inputs: RiskInputs, now: int) -> people.Sources:
    return {source: tuple(reasons) for source, reasons in assess(inputs, now).items()}


def refresh(person: str, now: int, cause: str, mutate: Mutation | None = None,
            create: Mapping[str, str] | None = None, actor: str | None = None) -> tuple[people.Code | None, bool]:
    """Recompute and store the person's code: (the code, whether a new version was written).

    The code is None when the person has no code (yet).
    `mutate` changes the code before assessment (apply sets the declaration);
    `create` is the first version's name_masked and id_last4 when the person has no code yet.
    """
    code_id = pseudonyms.code_id(person)

    def change(current: people.Code | None) -> Plan | None:
        if current is not None:
            base = current
        elif create is not None:
            base = people.Code(code_id, person, create["name_masked"], create["id_last4"], "active", 0, Color.GREEN,
                               now, now)
        else:
            return None
        if mutate is not None:
            base = mutate(base)
        inputs = gather(person, base, now)
        return base, assessed(inputs, now), stay_facts(inputs, now), health_summary(inputs, now)

    def save(current: people.Code | None, plan: Plan | None) -> tuple[people.Code | None, bool]:
        if plan is None:
            return None, False
        base, sources, facts, health = plan
        return _store(current, base, sources, facts, now, cause, actor, declared=mutate is not None, health=health)

    # someone wrote in between: read again and assess on top of theirs
    return versioned_update(lambda: people.get(code_id, consistent=True), change, save, "The code")


def refresh_area(code_id: str, levels: Mapping[str, Sequence[LevelPeriod]], now: int, actor: str | None = None,
                 current: people.Code | None = None) -> bool:
    """Re-judge only the area source of a stored code after a level change; True if a version was written.

    The stays are on the record, so this is one read (none when the caller read the record already) and,
    if the assessment changed, one write: about a fifth of a full refresh."""
    def change(code: people.Code | None) -> people.Sources | None:
        if code is None:
            return None
        area = tuple(area_reasons(code.facts, levels, now))
        sources = {s: reasons for s, reasons in code.sources.items() if s != AREA}
        if area:
            sources[AREA] = area
        return sources

    def save(code: people.Code | None, sources: people.Sources | None) -> bool:
        if code is None or sources is None:
            return False
        return _store(code, code, sources, code.facts, now, AREA, actor, declared=False)[1]

    already = [current] if current is not None else []

    def load() -> people.Code | None:
        # the caller's read serves the first attempt; after a lost race, read again
        return already.pop() if already else people.get(code_id, consistent=True)

    return versioned_update(load, change, save, "The code")


def preview(person: str, now: int) -> tuple[str, list[dict[str, Any]]]:
    """The color and live reasons the person's sources give, for someone without a national code."""
    assessed = assess(gather(person, None, now), now)
    reasons = [r for rs in assessed.values() for r in rs]
    return live_color(reasons, now).value, [r.to_dict() for r in live_reasons(reasons, now)]
