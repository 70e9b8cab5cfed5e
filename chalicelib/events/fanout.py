"""Fan-out work in bounded units: the codes an event touches are recomputed a page at a time.

The events handler only turns an event into units (store/work.py); the `fanout` function runs each unit
from the work table's stream, and a unit that leaves work over writes its continuation. So no
invocation does more than a page, however big the city or the train, the units of one change run in
parallel (an area's 16 index shards are 16 chains), and an unrelated event never waits behind a fan-out.

Since area levels are joined at read time (domain/stays.py), an area unit is not what makes a color
right: it brings each code's stored assessment, its history and its `person.color_changed` event up
to date, and it costs about one write per code whose color or reasons change.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain import days, venues as venue_rules
from chalicelib.security import pseudonyms
from chalicelib.services import assessment
from chalicelib.store import areas, events, people, trips, venues, visits, work
from chalicelib.store.work import Unit

log = logging.getLogger("healthcode.fanout")
# Sizes that keep a unit far inside its function's timeout (60 s) on a slow day: an area unit reads one
# index page and writes at most AREA_PAGE codes (one write each); voyage and people units run full
# recomputes (about ten calls each). Measured in bench/city.py.
AREA_PAGE = 200
VOYAGE_PAGE = 50
PEOPLE_UNIT = 50
VENUE_PAGE = 50        # visits per venue unit: full recomputes, as voyage units
WORKERS = 8


def units_for(event: events.Event) -> list[Unit]:
    """The units an event asks for: none for events that concern no stored code."""
    kind, data, origin = event.type, event.data, event.event_id
    if kind == "area.level_changed":
        return [Unit(origin, f"s{shard}", "area", {"area": data["area"], "shard": shard, "actor": data.get("set_by")})
                for shard in range(visits.CITY_SHARDS)]
    if kind == "exposure.published":
        return [Unit(origin, "voyage", "voyage", {"voyage": data["voyage"], "mode": data["mode"]})]
    if kind == "venue.exposure_published":
        # the visits of the window and its buffer, a venue's 16 shards as 16 chains (store/venues.py)
        first = venue_rules.bucket(int(data["from"]) - venue_rules.EXPOSURE_BUFFER_SECONDS)
        last = venue_rules.bucket(int(data["to"]) + venue_rules.EXPOSURE_BUFFER_SECONDS)
        return [Unit(origin, f"v{shard}", "venue", {"venue": data["venue_id"], "shard": shard, "first": first,
                                                    "last": last, "actor": data.get("set_by")})
                for shard in range(venues.VISIT_SHARDS)]
    if kind in ("local_codes.synced", "health_records.synced", "test_results.synced", "vaccinations.synced"):
        synced = sorted(set(data.get("people", [])))
        return [Unit(origin, f"p{i // PEOPLE_UNIT}", "people",
                     {"people": synced[i:i + PEOPLE_UNIT], "cause": "province_sync",
                      "actor": f"province:{data['province']}"})
                for i in range(0, len(synced), PEOPLE_UNIT)]
    if kind == "health_status.changed":
        return [Unit(origin, "person", "people", {"people": [event.subject], "cause": "medical_status",
                                                  "actor": data.get("set_by")})]
    return []


def _each(persons: list[str], recompute: Callable[[str], bool]) -> int:
    """Recompute people at once (each waits on DynamoDB, and each code's version guards it). If one fails
    the others still finish, then the error is raised and the unit is retried: codes already written
    recompute as unchanged."""
    if len(persons) < 2:
        return sum(recompute(p) for p in persons)
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(persons))) as pool:
        return sum(pool.map(recompute, persons))


def _area(unit: Unit, now: int) -> tuple[int, dict[str, Any] | None]:
    area, actor = unit.params["area"], unit.params.get("actor")
    city = area[:4] + "00"
    visitors, cursor = visits.people_page(city, int(unit.params["shard"]), days.window_start(now).isoformat(),
                                          None if area == city else area, AREA_PAGE, unit.cursor)
    if not visitors:
        return 0, cursor
    levels = areas.levels()        # read once per unit, after the change: fresher than any cache
    by_code = {pseudonyms.code_id(person): person for person in visitors}
    found = people.many(by_code)
    return _each(sorted(found), lambda code_id: assessment.refresh_area(code_id, levels, now, actor,
                                                                       current=found[code_id])), cursor


def _voyage(unit: Unit, now: int) -> tuple[int, dict[str, Any] | None]:
    page, cursor = trips.passengers_page(unit.params["voyage"], VOYAGE_PAGE, unit.cursor)
    passengers = sorted({t.person for t in page if t.mode.value == unit.params["mode"]})
    return _each(passengers, lambda person: assessment.refresh(person, now, "exposure")[1]), cursor


def _venue(unit: Unit, now: int) -> tuple[int, dict[str, Any] | None]:
    p = unit.params
    page, cursor = venues.visits_page(p["venue"], int(p["shard"]), int(p["first"]), int(p["last"]), VENUE_PAGE,
                                      unit.cursor)
    visitors = sorted({v.person for v in page})
    return _each(visitors, lambda person: assessment.refresh(person, now, "venue_exposure",
                                                             actor=p.get("actor"))[1]), cursor


def _people(unit: Unit, now: int) -> tuple[int, dict[str, Any] | None]:
    cause, actor = unit.params["cause"], unit.params.get("actor")
    return _each(list(unit.params["people"]),
                 lambda person: assessment.refresh(person, now, cause, actor=actor)[1]), None


RUNNERS: dict[str, Callable[[Unit, int], tuple[int, dict[str, Any] | None]]] = {
    "area": _area, "voyage": _voyage, "people": _people, "venue": _venue}


def run(unit: Unit, now: int) -> int:
    """Do one unit and write its continuation if work is left; returns how many codes were written."""
    written, cursor = RUNNERS[unit.kind](unit, now)
    if cursor is not None:
        work.add([unit.next(cursor)], now)
    log.info("work unit done", extra={"unit_id": unit.unit_id, "kind": unit.kind, "codes_written": written,
                                      "continues": cursor is not None})
    return written
