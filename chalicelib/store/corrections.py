"""The corrections table: correction requests, and each person's open count and approved overrides.

Items:
- `<correction id>`: a request (`Correction`), also in the `queue` index (`queue_key = <province>#<status>`)
  and the `by_person` index, both sorted by `queue_sort = <filed at>#<id>`;
- `person#<person>`: the person's open count and approved overrides (`State`);
- `open#<person>#<source>#<reason code>[#<ref>]`: exists while a request about that reason is pending.

Each write sets the TTL `expires_at` of what it writes (domain/retention.correction_expires: 90 days after the
write, or 30 days after the lift a decision approves if later). Writes come in time order, so the person's
state, rewritten by each filing and decision, outlives every request and lift it counts.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import identifiers, retention
from chalicelib.domain.colors import Color
from chalicelib.domain.corrections import Override
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key, KeyShape

KIND = "corrections"
ID = identifiers.CORRECTION_ID
QUEUE_SORT = re.compile(r"[0-9]{10}#cor_[0-9a-f]{16}")   # <filed at>#<id>: both indexes' sort key
QUEUE_INDEX = "queue"
PERSON_INDEX = "by_person"
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Correction:
    correction_id: str
    person: str
    province: str                     # whose reviewers decide it, or national
    status: str                       # pending | approved | rejected
    source: str
    reason_code: str
    ref: str | None                   # what the reason is about
    description: str
    evidence: str | None
    name_masked: str | None
    id_last4: str | None
    created_at: int
    decided_at: int | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    lifted_until: int | None = None   # approved: the reason is lifted (or recolored) until then
    override_color: Color | None = None
    open_marker: bool = False         # filed with an open marker (requests filed before markers have none)


@dataclass(frozen=True, slots=True)
class State:
    """A person's open requests and the overrides approved for them."""
    open: int = 0
    overrides: tuple[Override, ...] = ()


class AlreadyOpen(dynamo.ConditionFailed):
    """The person has a pending request for this reason already: `correction_id`."""

    def __init__(self, correction_id: str):
        super().__init__(correction_id)
        self.correction_id = correction_id


class TooManyOpen(Exception):
    """The person has the most open requests allowed."""


def _state_key(person: str) -> dict[str, str]:
    return {"pk": f"person#{person}"}


def _open_key(correction: Correction) -> dict[str, str]:
    """The one item that exists while a person's request about one reason is pending: filings of the same
    reason race for it in their transactions, so only one of them creates a request. A reason is its
    source, code and `ref` (what it is about): the same code about two areas is two reasons."""
    ref = correction.ref
    return {"pk": f"open#{correction.person}#{correction.source}#{correction.reason_code}" + (f"#{ref}" if ref else "")}


def _correction(item: dict[str, Any]) -> Correction:
    color = item.get("override_color")
    return Correction(item["pk"], item["person"], item["province"], item["status"], item["source"],
                      item["reason_code"], item.get("ref"), item["description"], item.get("evidence"),
                      item.get("name_masked"), item.get("id_last4"), int(item["created_at"]), item.get("decided_at"),
                      item.get("decided_by"), item.get("decision_reason"), item.get("lifted_until"),
                      Color(color) if color else None, bool(item.get("open_marker")))


def _override_map(o: Override) -> dict[str, Any]:
    return {"correction_id": o.correction_id, "source": o.source, "code": o.code, "ref": o.ref,
            "approved_at": o.approved_at, "until": o.until, "color": o.color.value if o.color else None}


def _override(o: dict[str, Any]) -> Override:
    return Override(o["correction_id"], o["source"], o.get("code"), int(o["approved_at"]), int(o["until"]),
                    Color(o["color"]) if o.get("color") else None, o.get("ref"))


def person_pages(person: str) -> KeyShape:
    """The start keys a person's list of requests gives out (of the `by_person` index)."""
    return KeyShape("person", person, {"pk": ID, "queue_sort": QUEUE_SORT})


def queue_pages(province: str, status: str) -> KeyShape:
    """The start keys a reviewer's queue gives out (of the `queue` index)."""
    return KeyShape("queue_key", f"{province}#{status}", {"pk": ID, "queue_sort": QUEUE_SORT})


def get(correction_id: str) -> Correction | None:
    item = dynamo.get(KIND, {"pk": correction_id}, consistent=True)
    return _correction(item) if item is not None else None


def state(person: str) -> State:
    item = dynamo.get(KIND, _state_key(person), consistent=True) or {}
    return State(int(item.get("open", 0)), tuple(_override(o) for o in item.get("overrides", [])))


def file(correction: Correction, max_open: int) -> None:
    """The request, its reason's open marker and the person's open count, all or nothing. AlreadyOpen if a
    request about the same reason is pending (however close the two filings came), TooManyOpen if
    `max_open` are open already, ConditionFailed if the id was taken."""
    c = correction
    item = {"pk": c.correction_id, "person": c.person, "province": c.province, "status": c.status,
            "source": c.source, "reason_code": c.reason_code, "ref": c.ref, "description": c.description,
            "evidence": c.evidence, "name_masked": c.name_masked, "id_last4": c.id_last4, "created_at": c.created_at,
            "queue_key": f"{c.province}#{c.status}", "queue_sort": f"{c.created_at:010d}#{c.correction_id}",
            "open_marker": True, "expires_at": retention.correction_expires(c.created_at)}
    try:
        dynamo.transact([
            dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)"),
            dynamo.put_op(KIND, {**_open_key(c), "correction_id": c.correction_id, "expires_at": item["expires_at"]},
                          condition="attribute_not_exists(pk)", return_old=True),
            dynamo.update_op(KIND, _state_key(c.person), "SET #o = if_not_exists(#o, :zero) + :one, expires_at = :exp",
                             {":zero": 0, ":one": 1, ":max": max_open, ":exp": item["expires_at"]},
                             condition="attribute_not_exists(#o) OR #o < :max", names={"#o": "open"}),
        ])
    except dynamo.ConditionFailed as failed:
        if 1 in failed.failed:
            raise AlreadyOpen((failed.failed[1] or {}).get("correction_id", "")) from None
        if 2 in failed.failed:
            raise TooManyOpen() from None
        raise


def decide(decided: Correction, override: Override | None, extra_ops: Sequence[dict[str, Any]]) -> None:
    """Record one decision (`decided`: the request as it is once decided), the override it approves, and what
    goes with it (the event, the person's audit entry), all or nothing; ConditionFailed if the request was
    decided already (by another reviewer). Its open marker goes, so the reason can be filed again."""
    decision = {"status": decided.status, "decided_at": decided.decided_at, "decided_by": decided.decided_by,
                "decision_reason": decided.decision_reason, "queue_key": f"{decided.province}#{decided.status}",
                "lifted_until": decided.lifted_until,
                "override_color": decided.override_color.value if decided.override_color else None,
                "expires_at": retention.correction_expires(decided.decided_at or 0, decided.lifted_until)}
    decision = {k: v for k, v in decision.items() if v is not None}
    fields = ", ".join(f"#{k} = :{k}" for k in decision)
    values: dict[str, Any] = {f":{k}": v for k, v in decision.items()}
    values[":pending"] = PENDING
    state_update = "SET #o = #o - :one, expires_at = :exp"
    state_values: dict[str, Any] = {":one": 1, ":exp": decision["expires_at"]}
    if override is not None:
        state_update += ", overrides = list_append(if_not_exists(overrides, :none), :new)"
        state_values.update({":none": [], ":new": [_override_map(override)]})
    # requests filed before open markers existed have none to remove
    close = [dynamo.delete_op(KIND, _open_key(decided), condition="correction_id = :id",
                              values={":id": decided.correction_id})] if decided.open_marker else []
    dynamo.transact([
        dynamo.update_op(KIND, {"pk": decided.correction_id}, f"SET {fields}", values,
                         condition="#status = :pending", names={f"#{k}": k for k in decision}),
        dynamo.update_op(KIND, _state_key(decided.person), state_update, state_values, names={"#o": "open"}),
        *extra_ops, *close,
    ])


def queue(province: str, status: str, limit: int, start: Key | None) -> tuple[list[Correction], Key | None]:
    items, last = dynamo.query(KIND, "queue_key = :q", {":q": f"{province}#{status}"}, index=QUEUE_INDEX,
                               limit=limit, start=start)
    return [_correction(i) for i in items], last


def of_person(person: str, limit: int, start: Key | None = None) -> tuple[list[Correction], Key | None]:
    items, last = dynamo.query(KIND, "person = :p", {":p": person}, index=PERSON_INDEX, forward=False, limit=limit,
                               start=start)
    return [_correction(i) for i in items], last


def held_of(person: str) -> list[Held]:
    """The person's correction requests (their open markers and count are bookkeeping, not listed)."""
    items = dynamo.query_all(KIND, "person = :p", {":p": person}, index=PERSON_INDEX)
    return [held("corrections", {**i, "correction_id": i["pk"]}, "created_at", drop=("open_marker",)) for i in items]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of the person's requests and their state (an erasure: only with none open, so no marker)."""
    items = dynamo.query_all(KIND, "person = :p", {":p": person}, index=PERSON_INDEX)
    state = [_state_key(person)] if dynamo.get(KIND, _state_key(person), consistent=True) else []
    return [dynamo.delete_op(KIND, {"pk": i["pk"]}) for i in items] + [dynamo.delete_op(KIND, k) for k in state]


def expires_for(item: dict[str, Any], now: int) -> int:
    """The `expires_at` this table's writes give an item, from its own times (a backfill of items written before TTL
    was set on them: ops/backfill.py): a request from its filing or decision and the lift it approved, a person's
    state from the backfill on and the longest lift it holds; an open marker keeps no time: from the backfill."""
    lifted = [int(o["until"]) for o in item.get("overrides") or [] if o.get("until") is not None]
    written = retention.latest(item, "decided_at", "created_at") or now
    return retention.correction_expires(written, max([*lifted, retention.latest(item, "lifted_until") or 0]) or None)
