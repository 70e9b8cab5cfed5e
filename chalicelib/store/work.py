"""The work and catchup tables: bounded units of fan-out work, each run by a stream function of its own.

Units that decide colors (a voyage's passengers, synced people, a status change) go to `work`, run by
the `fanout` function. Units that only bring stored codes up to date after an area level changed (reads
join the new level already: domain/stays.py) go to `catchup`, run by the `catchup` function, so that a
city's fan-out never holds up a unit that decides someone's color.

A unit names what to do (its kind and parameters) and where to start (a cursor of the query it pages
through). A unit that leaves work over writes its continuation, `<origin>#<key>#<part + 1>`: the id is
fixed by the unit, so a unit that runs twice (streams deliver at least once) writes one continuation.
Items expire after a week; a unit's effects are idempotent, so replaying one is always safe.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store import dynamo

KIND = "work"
CATCHUP = "catchup"
CATCHUP_KINDS = frozenset({"area"})
KEEP_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Unit:
    origin: str                           # the event that asked for the work
    key: str                              # which part of the work: a shard, a voyage, a chunk of people
    kind: str                             # area, voyage, people, venue (events/fanout.py)
    params: dict[str, Any] = field(default_factory=dict)
    cursor: dict[str, Any] | None = None  # where the query this unit pages through resumes
    part: int = 0

    @property
    def unit_id(self) -> str:
        return f"{self.origin}#{self.key}#{self.part}"

    def next(self, cursor: dict[str, Any]) -> Unit:
        return Unit(self.origin, self.key, self.kind, self.params, cursor, self.part + 1)


def _item(unit: Unit, now: int) -> dict[str, Any]:
    return {"pk": unit.unit_id, "origin": unit.origin, "key": unit.key, "kind": unit.kind, "params": unit.params,
            "cursor": unit.cursor, "part": unit.part, "created_at": now, "expires_at": now + KEEP_SECONDS}


def _unit(item: dict[str, Any]) -> Unit:
    return Unit(item["origin"], item["key"], item["kind"], item.get("params") or {}, item.get("cursor"),
                int(item.get("part", 0)))


def inserted(record: dict[str, Any]) -> Unit | None:
    """The unit a Lambda-shaped stream record of the work or catchup table inserted; None for TTL removals."""
    if record.get("eventName") != "INSERT":
        return None
    item = dynamo.from_item(record["dynamodb"]["NewImage"])
    return _unit(item) if item else None


def add(units: list[Unit], now: int) -> None:
    """Write units that do not exist yet (a retried event or unit adds none twice), 100 per transaction."""
    for i in range(0, len(units), 100):
        chunk = units[i:i + 100]
        try:
            dynamo.transact([dynamo.put_op(table_of(u), _item(u, now), condition="attribute_not_exists(pk)")
                             for u in chunk])
        except dynamo.ConditionFailed:
            for unit in chunk:   # some were written by an earlier try: add the others one by one
                with contextlib.suppress(dynamo.ConditionFailed):
                    dynamo.put(table_of(unit), _item(unit, now), condition="attribute_not_exists(pk)")


def table_of(unit: Unit) -> str:
    return CATCHUP if unit.kind in CATCHUP_KINDS else KIND
