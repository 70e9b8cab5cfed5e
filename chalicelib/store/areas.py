"""The areas table: each area's risk level periods, and one summary item per province that reads join.

Two kinds of item:
- `<area code>`: every period ever set for the area (up to services/areas.MAX_HISTORY), with its version;
- `levels#<province>`: one attribute per area of the province whose periods can still decide a stay
  (domain/areas.periods_that_matter), encoded "start:level,start:level". The whole country is one
  BatchGetItem of these few dozen small items (services/area_levels.py caches it per container).

Both are written, with the change's event, in one transaction, so the summary never disagrees with the
areas it summarises.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.areas import LevelPeriod, RiskLevel
from chalicelib.domain.divisions import PROVINCES
from chalicelib.store import dynamo

KIND = "areas"
SUMMARY_PREFIX = "levels#"
Levels = dict[str, tuple[LevelPeriod, ...]]


@dataclass(frozen=True, slots=True)
class Setting:
    """One level set for an area: in force from `start` until a later start."""
    level: RiskLevel
    start: int
    set_by: str
    set_at: int
    note: str | None = None

    @property
    def period(self) -> LevelPeriod:
        return LevelPeriod(self.level, self.start)


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    settings: tuple[Setting, ...]    # by start, then by when each was set: the last of a start counts
    version: int
    updated_at: int

    @property
    def periods(self) -> tuple[LevelPeriod, ...]:
        return tuple(s.period for s in self.settings)


def _area(item: dict[str, Any]) -> Area:
    return Area(item["pk"], tuple(Setting(RiskLevel(p["level"]), int(p["start"]), p.get("set_by", ""),
                                          int(p.get("set_at", 0)), p.get("note")) for p in item.get("periods", [])),
                int(item["version"]), int(item.get("updated_at", 0)))


def _item(area: Area) -> dict[str, Any]:
    return {"pk": area.code, "periods": [{"level": s.level.value, "start": s.start, "set_by": s.set_by,
                                          "set_at": s.set_at, "note": s.note} for s in area.settings],
            "updated_at": area.updated_at, "version": area.version}


def get(code: str) -> Area | None:
    item = dynamo.get(KIND, {"pk": code}, consistent=True)
    return _area(item) if item is not None else None


def periods_of(codes: list[str]) -> Levels:
    """The periods of each of these areas that has any (the others are low)."""
    items = dynamo.batch_get(KIND, [{"pk": c} for c in sorted(set(codes))])
    return {item["pk"]: _area(item).periods for item in items}


def _encode(periods: Sequence[LevelPeriod]) -> str:
    return ",".join(f"{p.start}:{p.level.value}" for p in periods)


def _decode(text: str) -> tuple[LevelPeriod, ...]:
    found = []
    for part in text.split(","):
        start, _, level = part.partition(":")
        found.append(LevelPeriod(RiskLevel(level), int(start)))
    return tuple(found)


def _summary_op(area: str, in_force: Sequence[LevelPeriod], now: int) -> dict[str, Any]:
    """Set (or drop, when nothing about the area can matter any more) the area's entry in its province's summary."""
    key = {"pk": SUMMARY_PREFIX + area[:2]}
    if in_force:
        return dynamo.update_op(KIND, key, "SET #area = :periods, updated_at = :now",
                                {":periods": _encode(in_force), ":now": now}, names={"#area": area})
    return dynamo.update_op(KIND, key, "REMOVE #area SET updated_at = :now", {":now": now}, names={"#area": area})


def save(area: Area, expected_version: int | None, in_force: Sequence[LevelPeriod],
         event_op: dict[str, Any]) -> None:
    """The area's new periods, its entry in the province summary and the event, all or nothing."""
    if expected_version is None:
        put = dynamo.put_op(KIND, _item(area), condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, _item(area), condition="version = :v", values={":v": expected_version})
    dynamo.transact([put, _summary_op(area.code, in_force, area.updated_at), event_op])


def rewrite_summary(area: str, in_force: Sequence[LevelPeriod], now: int) -> None:
    """Ops: rebuild one area's summary entry from its periods (tables written before the summary existed)."""
    dynamo.transact([_summary_op(area, in_force, now)])


def levels(hot: bool = False) -> Levels:
    """Every area whose periods can still decide a stay, in one strongly consistent BatchGetItem."""
    items = dynamo.batch_get(KIND, [{"pk": SUMMARY_PREFIX + p} for p in PROVINCES], consistent=True, hot=hot)
    found: Levels = {}
    for item in items:
        for name, value in item.items():
            if name.isdigit():
                found[name] = _decode(value)
    return found


def every_area() -> list[Area]:
    """Every area's own item (ops: a few thousand at most, never on a request path)."""
    return [_area(i) for i in dynamo.scan_all(KIND) if not i["pk"].startswith(SUMMARY_PREFIX)]
