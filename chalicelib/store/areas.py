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
from typing import Any

from chalicelib.domain.areas import LevelPeriod, RiskLevel
from chalicelib.domain.divisions import PROVINCES
from chalicelib.store import dynamo

KIND = "areas"
SUMMARY_PREFIX = "levels#"
Levels = dict[str, tuple[LevelPeriod, ...]]


def get(code: str) -> dict[str, Any] | None:
    return dynamo.get(KIND, {"pk": code}, consistent=True)


def many(codes: list[str]) -> dict[str, dict[str, Any]]:
    return {item["pk"]: item for item in dynamo.batch_get(KIND, [{"pk": c} for c in sorted(set(codes))])}


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


def save(record: dict[str, Any], expected_version: int | None, in_force: Sequence[LevelPeriod],
         event_op: dict[str, Any]) -> None:
    """The area's new periods, its entry in the province summary and the event, all or nothing."""
    if expected_version is None:
        put = dynamo.put_op(KIND, record, condition="attribute_not_exists(pk)")
    else:
        put = dynamo.put_op(KIND, record, condition="version = :v", values={":v": expected_version})
    dynamo.transact([put, _summary_op(record["pk"], in_force, record["updated_at"]), event_op])


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


def area_items() -> list[dict[str, Any]]:
    """Every area's own item (ops: a few thousand at most, never on a request path)."""
    return [i for i in dynamo.scan_all(KIND) if not i["pk"].startswith(SUMMARY_PREFIX)]
