"""The people table: one item per person, their national health code, keyed by the opaque code id their QR
tokens name.

The item is the code as its last assessment left it (`Code`): the stored reasons by source, their color,
the facts a read joins with today's area levels (domain/stays.py), the next moment a reason starts or ends
(`due_at`, and `due_day`, the `due` index's key: `<CST day>#<shard>`), the last scan a verification
noted on it, the health summary entry rules need (`negative_at`, `doses`), and its TTL `expires_at`
(domain/retention.py: 30 days after the last write or scan, or longer while a reason needs it, then also in
`held_until`, which a scan's update keeps). The verify hot path decodes
one of these per request: `_code` stays a plain constructor call.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import days, retention
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.corrections import Override
from chalicelib.domain.health_summary import HealthSummary
from chalicelib.domain.stays import SOURCE as AREA, StayFacts
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held
from chalicelib.store.scans import Scan, scan_map, scan_of

KIND = "people"
DUE_INDEX = "due"
# a day's due codes are spread over this many keys of the `due` index, so that no day is one hot partition
DUE_SHARDS = 8
# a scan's one update: the scan, and the expiry it moves unless the reasons hold the code longer
SCAN_UPDATE = "SET last_scan = :scan, expires_at = if_not_exists(held_until, :exp)"
Sources = Mapping[str, tuple[Reason, ...]]


@dataclass(frozen=True, slots=True)
class Code:
    code_id: str
    person: str                            # the person reference (a keyed hash of the ID number)
    name_masked: str
    id_last4: str
    status: str                            # active | revoked
    version: int                           # 0 before the first write
    color: Color                           # the stored assessment's; a read judges the reasons afresh
    created_at: int
    updated_at: int
    sources: Sources = field(default_factory=dict)   # the stored reasons, by source
    facts: StayFacts = StayFacts()         # what reads join with today's area levels
    declaration: Mapping[str, Any] | None = None     # the last health declaration, as the citizen sent it
    declared_at: int | None = None
    due_at: int | None = None              # the next moment a reason starts or ends: the sweeper looks then
    last_scan: Scan | None = None          # noted by the last verification
    # the latest negative test's sample time and the dose count, for checkpoints' entry rules: the verify path
    # reads them here, in its one round trip (docs/tests-and-vaccinations.md)
    health: HealthSummary = HealthSummary()
    expires_at: int | None = None          # the TTL attribute: when DynamoDB deletes the item


def kept_facts(facts: StayFacts) -> StayFacts:
    """`facts` as the item keeps them: an area correction's color is not kept (reads lift, never recolor)."""
    if all(o.color is None for o in facts.overrides):
        return facts
    return StayFacts(facts.stays, facts.fever_until,
                     tuple(Override(o.correction_id, o.source, o.code, o.approved_at, o.until, None, o.ref)
                           for o in facts.overrides))


def _facts(item: dict[str, Any]) -> StayFacts:
    overrides = tuple(Override(o["correction_id"], AREA, o.get("code"), int(o["approved_at"]), int(o["until"]), None,
                               o.get("ref")) for o in item.get("area_overrides") or ())
    fever = item.get("fever_until")
    return StayFacts(item.get("stays") or "", None if fever is None else int(fever), overrides)


def _code(item: dict[str, Any]) -> Code:
    scan = item.get("last_scan")
    declared_at, due_at, negative_at = item.get("declared_at"), item.get("due_at"), item.get("negative_at")
    sources = {source: tuple(map(Reason.from_dict, reasons)) for source, reasons in (item.get("sources") or {}).items()}
    return Code(item["pk"], item["person"], item["name_masked"], item["id_last4"], item.get("status", "active"),
                int(item["version"]), Color(item["color"]), int(item["created_at"]), int(item["updated_at"]),
                sources, _facts(item), item.get("declaration"), None if declared_at is None else int(declared_at),
                None if due_at is None else int(due_at), scan_of(scan) if scan else None,
                HealthSummary(None if negative_at is None else int(negative_at), int(item.get("doses") or 0)),
                None if item.get("expires_at") is None else int(item["expires_at"]))


def _due_day(code_id: str, moment: int) -> str:
    return f"{days.today(moment).isoformat()}#{zlib.crc32(code_id.encode()) % DUE_SHARDS}"


def item_of(code: Code) -> dict[str, Any]:
    """The item for `code` (here and for bulk loaders: bench/city.py)."""
    facts = code.facts
    reasons = [r for rs in code.sources.values() for r in rs]
    expires_at, held_until = retention.code_expires(code.updated_at, code.last_scan.at if code.last_scan else 0,
                                                    reasons)
    return {"pk": code.code_id, "person": code.person, "name_masked": code.name_masked, "id_last4": code.id_last4,
            "status": code.status, "version": code.version, "color": code.color.value,
            "created_at": code.created_at, "updated_at": code.updated_at,
            "sources": {source: [r.to_dict() for r in reasons] for source, reasons in code.sources.items()},
            "declaration": code.declaration, "declared_at": code.declared_at,
            "due_at": code.due_at, "due_day": None if code.due_at is None else _due_day(code.code_id, code.due_at),
            "stays": facts.stays or None, "fever_until": facts.fever_until,
            "area_overrides": [{"correction_id": o.correction_id, "code": o.code, "approved_at": o.approved_at,
                                "until": o.until, "ref": o.ref} for o in facts.overrides] or None,
            "last_scan": scan_map(code.last_scan) if code.last_scan else None,
            "negative_at": code.health.negative_at, "doses": code.health.doses or None,
            "expires_at": expires_at, "held_until": held_until}


def get(code_id: str, consistent: bool = False) -> Code | None:
    item = dynamo.get(KIND, {"pk": code_id}, consistent=consistent)
    return _code(item) if item is not None else None


def noted_scan(images: dict[str, Any]) -> Code | None:
    """The code, if the change a stream record (its `dynamodb` part) carries is a new scan noted on it."""
    new = dynamo.from_item(images.get("NewImage")) or {}
    old = dynamo.from_item(images.get("OldImage")) or {}
    if not new.get("last_scan") or new["last_scan"] == old.get("last_scan"):
        return None
    return _code(new)


def many(code_ids: Iterable[str]) -> dict[str, Code]:
    """Codes by id, strongly consistent, 100 per BatchGetItem (ids without a code are left out)."""
    items = dynamo.batch_get(KIND, [{"pk": c} for c in sorted(set(code_ids))], consistent=True)
    return {item["pk"]: _code(item) for item in items}


def save(code: Code, expected_version: int | None, event_ops: Sequence[dict[str, Any]] = ()) -> None:
    """Write a version: the first one only if none exists, a later one only if nobody wrote since we read.

    Events about the change go in the same transaction. ConditionFailed when we lost the race.
    """
    item = item_of(code)
    if expected_version is None:
        condition, values = "attribute_not_exists(pk)", None
    else:
        condition, values = "version = :expected", {":expected": expected_version}
    if event_ops:
        dynamo.transact([dynamo.put_op(KIND, item, condition=condition, values=values), *event_ops])
    else:
        dynamo.put(KIND, item, condition=condition, values=values)


def record_scan(code_id: str, scan: Scan) -> Code | None:
    """Note a scan on the code and read it back, in one round trip; None if there is no such code.

    The scan moves the code's expiry to 30 days after it, unless its reasons hold it longer (`held_until`,
    set by the last write): the same update, no read. The scans table gets the row from this table's stream
    (events/handlers.on_people_records).
    """
    try:
        item = dynamo.update(KIND, {"pk": code_id}, SCAN_UPDATE,
                             {":scan": scan_map(scan), ":exp": retention.scan_extends(scan.at)},
                             condition="attribute_exists(pk)", hot=True)
    except dynamo.ConditionFailed:
        return None
    return _code(item) if item is not None else None


def reschedule(code_id: str, version: int, due_at: int | None) -> None:
    """Move (or clear) the next moment a code must be re-assessed, without a new version."""
    if due_at is not None:
        dynamo.update(KIND, {"pk": code_id}, "SET due_day = :d, due_at = :a",
                      {":d": _due_day(code_id, due_at), ":a": due_at, ":v": version}, condition="version = :v")
    else:
        dynamo.update(KIND, {"pk": code_id}, "REMOVE due_day, due_at", {":v": version}, condition="version = :v")


def due(day: str, now: int) -> list[str]:
    """Code ids whose next reason change, on `day` (ISO, in China Standard Time), is due by now."""
    found: list[str] = []
    for shard in range(DUE_SHARDS):
        items = dynamo.query_all(KIND, "due_day = :d AND due_at <= :now", {":d": f"{day}#{shard}", ":now": now},
                                 index=DUE_INDEX)
        found += [i["pk"] for i in items]
    return found


def held_of(code_id: str) -> list[Held]:
    """The code item, as the citizen's view of their data shows it."""
    item = dynamo.get(KIND, {"pk": code_id}, consistent=True)
    return [held("code", {**item, "code_id": item["pk"]}, "created_at")] if item else []


def erase_ops(code_id: str) -> list[dict[str, Any]]:
    """The Delete of the code item, if there is one (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": code_id})] if dynamo.get(KIND, {"pk": code_id}, consistent=True) else []


def expires_for(item: dict[str, Any], now: int) -> int:
    """The `expires_at` this table's writes give a code item, from its own times and reasons (a backfill of items
    written before TTL was set on them: ops/backfill.py)."""
    return int(item_of(_code(item))["expires_at"])
