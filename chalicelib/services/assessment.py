"""Recompute a person's code from every source: on apply, when a source changes, and when a window closes.

Gathering reads the person's sources (a handful of key-addressed reads), the pure
`domain.risk.assess` decides, and the new version is written with a version
guard; a change of color writes its `person.color_changed` event in the same
transaction.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, Sequence

from chalicelib.domain import days
from chalicelib.domain.areas import LevelPeriod, RiskLevel, Visit, governing_areas
from chalicelib.domain.colors import Color, live_color, live_reasons, next_change, reasons_from_sources
from chalicelib.domain.corrections import Override
from chalicelib.domain.declaration import Declaration
from chalicelib.domain.exposures import CaseType, Exposure, Trip, voyage
from chalicelib.domain.local_codes import LocalCode
from chalicelib.domain.medical import MedicalStatus, StatusEntry
from chalicelib.domain.risk import CheckIn, RiskInputs, assess, stay_facts
from chalicelib.domain.stays import SOURCE as AREA, area_reasons
from chalicelib.domain.transport import NUMBERED, Mode
from chalicelib.lazy import Lazy
from chalicelib.security import pseudonyms
from chalicelib.services.versioned import versioned_update
from chalicelib.store import (areas, audit, checkins, codes, corrections, dynamo, events, exposures, localcodes, medical,
                              trips, visits)

# one pool of readers for every gather of the container: with the fan-out's 8 workers (events/fanout.py)
# waiting on it, at most 16 + 8 calls are in flight, within the DynamoDB client's 32 pooled connections
# (store/dynamo.py)
READ_WORKERS = 16
_readers: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=READ_WORKERS,
                                                                     thread_name_prefix="gather"))
DUE_SHARDS = 8
Mutation = Callable[[dict[str, Any]], dict[str, Any]]


def level_periods(area_item: dict[str, Any] | None) -> list[LevelPeriod]:
    if not area_item:
        return []
    return [LevelPeriod(RiskLevel(p["level"]), int(p["start"])) for p in area_item.get("periods", [])]


def exposure_from_item(item: dict[str, Any]) -> Exposure:
    rows = item.get("rows")
    return Exposure(exposure_id=item["exposure_id"], mode=Mode(item["mode"]), number=item["number"],
                    day=dt.date.fromisoformat(item["date"]), case_type=CaseType(item["case_type"]),
                    inbound=bool(item.get("inbound")), published_at=int(item["published_at"]),
                    carriages=tuple(item.get("carriages") or ()),
                    rows=(int(rows["from"]), int(rows["to"])) if rows else None, province=item.get("province"))


def _together(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent reads at once and wait for all: each waits on the network, not the CPU.

    Each job runs in a copy of the caller's context, so its log lines keep the request id."""
    readers = _readers.get()
    futures = {name: readers.submit(contextvars.copy_context().run, job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def gather(person: str, record: dict[str, Any], now: int) -> RiskInputs:
    """Every source of the person, read as seven independent chains at once (areas need the stays,
    exposures the trips): about 2 round trips of waiting where one after another took 9."""
    since_day = days.window_start(now).isoformat()

    def stays_and_levels() -> tuple[list[Visit], dict[str, list[LevelPeriod]]]:
        stays = [Visit(dt.date.fromisoformat(v["day"]), v["area"], v["source"])
                 for v in visits.recent(person, since_day, now)]
        needed = sorted({g for stay in stays for g in governing_areas(stay.area)})
        found = areas.many(needed) if needed else {}
        return stays, {code: level_periods(found.get(code)) for code in needed}

    def trips_and_exposures() -> tuple[list[Trip], list[Exposure]]:
        trip_list = [Trip(t["trip_id"], dt.date.fromisoformat(t["date"]), Mode(t["mode"]), t.get("number"),
                          t.get("seat"), t.get("carriage")) for t in trips.recent(person, since_day, now)]
        exposure_list = [exposure_from_item(e) for v in sorted({voyage(t.number, t.day) for t in trip_list
                                                                if t.mode in NUMBERED and t.number})
                         for e in exposures.on(v)]
        return trip_list, exposure_list

    read = _together({
        "statuses": lambda: medical.statuses(person),
        "stays": stays_and_levels,
        "trips": trips_and_exposures,
        "checkins": lambda: checkins.recent(person, since_day, now),
        "records": lambda: medical.records_of(person),
        "local": lambda: localcodes.of_person(person),
        "corrections": lambda: corrections.state(person),
    })
    stays, levels = read["stays"]
    trip_list, exposure_list = read["trips"]
    checkin_list = [CheckIn(dt.date.fromisoformat(c["sk"]), c["area"], float(c["temperature"]),
                            tuple(c.get("symptoms", [])), int(c["at"])) for c in read["checkins"]]
    declaration = Declaration.model_validate(record["declaration"]) if record.get("declaration") else None
    statuses = [StatusEntry(MedicalStatus(s["status"]), int(s["since"]), None, s["issuer"]) for s in read["statuses"]]
    statuses += [StatusEntry(MedicalStatus(r["status"]), int(r["issued_at"]), r.get("valid_until"), r["province"])
                 for r in read["records"]]
    local = [LocalCode(c["province"], Color(c["color"]), int(c["updated_at"]), c.get("valid_until"))
             for c in read["local"]]
    state = read["corrections"] or {}
    overrides = [Override(o["correction_id"], o["source"], o.get("code"), int(o["approved_at"]), int(o["until"]),
                          Color(o["color"]) if o.get("color") else None, o.get("ref"))
                 for o in state.get("overrides", [])]
    return RiskInputs(
        overrides=overrides,
        declaration=declaration, declared_at=record.get("declared_at"),
        statuses=statuses, local_codes=local,
        visits=stays, levels=levels,
        trips=trip_list, exposures=exposure_list, checkins=checkin_list)


def _due_fields(code_id: str, moment: int | None) -> dict[str, Any]:
    if moment is None:
        return {}
    shard = zlib.crc32(code_id.encode()) % DUE_SHARDS
    return {"due_day": f"{days.today(moment).isoformat()}#{shard}", "due_at": moment}


def history_entry(person: str, before: dict[str, Any] | None, after: dict[str, Any], cause: str,
                  actor: str | None, now: int) -> dict[str, Any]:
    """The audit trail's record of one new version: what changed in which source, and why."""
    def codes_of(record: dict[str, Any] | None) -> dict[str, set[str]]:
        return {s: {r["code"] for r in rs} for s, rs in ((record or {}).get("sources") or {}).items()}

    old, new = codes_of(before), codes_of(after)
    changed = sorted(s for s in set(old) | set(new) if (before or {}).get("sources", {}).get(s)
                     != after["sources"].get(s))
    return {"pk": person, "sk": f"history#{now:010d}#{after['version']:08d}", "kind": "history", "at": now,
            "version": after["version"], "cause": cause, "actor": actor or "system",
            "color_before": (before or {}).get("color"), "color_after": after["color"], "sources_changed": changed,
            "reasons_added": sorted(f"{s}:{c}" for s in new for c in new[s] - old.get(s, set())),
            "reasons_removed": sorted(f"{s}:{c}" for s in old for c in old[s] - new.get(s, set()))}


def _store(person: str, current: dict[str, Any] | None, base: dict[str, Any], sources: dict[str, Any],
           facts: dict[str, Any], now: int, cause: str, actor: str | None,
           declared: bool) -> tuple[dict[str, Any], bool]:
    """Write the version that `sources` and `facts` make, unless it is what is stored: (the record, written).

    A new color writes its `person.color_changed` event and a change of reasons its history entry, in the
    same transaction. ConditionFailed when another writer got in first."""
    code_id = base["pk"]
    reasons = reasons_from_sources(sources)
    color = live_color(reasons, now).value
    due = _due_fields(code_id, next_change(reasons, now))
    assessed_alike = current is not None and not declared and sources == current.get("sources", {}) \
        and color == current.get("color")
    if assessed_alike and all(facts.get(f) == current.get(f) for f in codes.FACT_FIELDS):
        if due.get("due_at") != current.get("due_at"):
            # nothing changed but the next due moment: no new version, no event
            codes.reschedule(code_id, current["version"], due)
        return current, False
    record = {k: v for k, v in base.items() if k not in ("due_day", "due_at", *codes.FACT_FIELDS)}
    record.update(sources=sources, color=color, updated_at=now, version=base["version"] + 1, **due,
                  **{k: v for k, v in facts.items() if v is not None})
    previous = current.get("color") if current else None
    ops = []
    if previous != color:
        # `version` orders a person's changes for receivers that get them out of order
        ops.append(events.put_op("person.color_changed",
                                 {"code_id": code_id, "color": color, "previous_color": previous,
                                  "version": record["version"], "cause": cause,
                                  "reasons": list(dict.fromkeys(r.code for r in live_reasons(reasons, now)))},
                                 now, subject=person))
    if not assessed_alike:   # only the stays changed (a trip to a low-risk area): nothing to tell the history
        ops.append(audit.put_op(history_entry(person, current, record, cause, actor, now)))
    codes.save(record, current["version"] if current else None, ops)
    return record, True


def refresh(person: str, now: int, cause: str, mutate: Mutation | None = None,
            create: dict[str, Any] | None = None, actor: str | None = None) -> tuple[dict[str, Any] | None, bool]:
    """Recompute and store the person's code: (the record, whether a new version was written).

    The record is None when the person has no code (yet).
    `mutate` changes the record before assessment (apply sets the declaration);
    `create` is the first version's base when the person has no code yet.
    """
    code_id = pseudonyms.code_id(person)
    Plan = tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None   # base, sources, facts

    def change(current: dict[str, Any] | None) -> Plan:
        if current is None and create is None:
            return None
        base = dict(current) if current is not None else {"pk": code_id, "person": person, **create,
                                                          "status": "active", "sources": {}, "created_at": now,
                                                          "version": 0}
        if mutate is not None:
            base = mutate(base)
        inputs = gather(person, base, now)
        sources = {source: [r.to_dict() for r in reasons] for source, reasons in assess(inputs, now).items()}
        return base, sources, codes.fact_fields(stay_facts(inputs, now))

    def save(current: dict[str, Any] | None, plan: Plan) -> tuple[dict[str, Any] | None, bool]:
        if plan is None:
            return None, False
        base, sources, facts = plan
        return _store(person, current, base, sources, facts, now, cause, actor, declared=mutate is not None)

    # someone wrote in between: read again and assess on top of theirs
    return versioned_update(lambda: codes.get(code_id, consistent=True), change, save, "The code")


def refresh_area(code_id: str, levels: Mapping[str, Sequence[LevelPeriod]], now: int, actor: str | None = None,
                 current: dict[str, Any] | None = None) -> bool:
    """Re-judge only the area source of a stored code after a level change; True if a version was written.

    The stays are on the record, so this is one read (none when the caller read the record already) and,
    if the assessment changed, one write: about a fifth of a full refresh."""
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None:
            return None
        area = [r.to_dict() for r in area_reasons(codes.stay_facts(current), levels, now)]
        sources = {s: reasons for s, reasons in current.get("sources", {}).items() if s != AREA}
        if area:
            sources[AREA] = area
        return sources

    def save(current: dict[str, Any] | None, sources: dict[str, Any] | None) -> bool:
        if current is None or sources is None:
            return False
        facts = {f: current.get(f) for f in codes.FACT_FIELDS}
        return _store(current["person"], current, dict(current), sources, facts, now, AREA, actor, declared=False)[1]

    return versioned_update(lambda: codes.get(code_id, consistent=True), change, save, "The code", first=current)


def preview(person: str, now: int) -> tuple[str, list[dict[str, Any]]]:
    """The color and live reasons the person's sources give, for someone without a national code."""
    assessed = assess(gather(person, {}, now), now)
    reasons = [r for rs in assessed.values() for r in rs]
    return live_color(reasons, now).value, [r.to_dict() for r in live_reasons(reasons, now)]
