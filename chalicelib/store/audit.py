"""The audit table: an insert-only trail about each person (`pk = <person>`).

Every entry's sort key is `<kind>#<zero-padded time>#<what it is>`, so a person's entries of one kind list
newest first, and none is ever overwritten (each write is conditional on the key being new):
- `history#<time>#<version>`: a new version of the person's code, what changed and why (`HistoryEntry`);
- `access#<time>#<access id>`: an act on the person's data by anyone else (`AccessEntry`,
  services/access_log.py);
- `correction#<time>#<correction id>`: a reviewer's decision on one of their correction requests (`Decision`).

Every entry carries the TTL `expires_at`: 180 days after it (domain/retention.audit_expires), or the access log's
own period (services/access_log.py).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import retention
from chalicelib.domain.remit import Basis
from chalicelib.store import dynamo
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key, KeyShape

KIND = "audit"
HISTORY = "history"
ACCESS = "access"
DECISION = "correction"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    person: str
    at: int
    version: int
    cause: str                        # what made the new version: declaration, trip, area, ...
    actor: str                        # who: citizen, a client id, province:<code>, or system
    color_before: str | None
    color_after: str
    sources_changed: tuple[str, ...]
    reasons_added: tuple[str, ...]    # <source>:<reason code>
    reasons_removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccessEntry:
    person: str
    at: int
    access_id: str
    client_id: str
    role: str
    province: str | None
    action: str                       # lookup, medical_status(_refused), local_code, health_record, ... (docs)
    basis: Basis | None
    returned: Mapping[str, Any] = field(default_factory=dict)   # what the act told or gave the actor
    ref: str | None = None            # what it was about: a look-up's id, a local code's, a correction's
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    person: str
    at: int
    correction_id: str
    decision: str                     # approved | rejected
    by: str
    province: str                     # the reviewer's queue
    reason: str


def pages(person: str, kind: str) -> KeyShape:
    """The start keys a person's list of one kind of entry gives out."""
    return KeyShape("pk", person, {"sk": re.compile(rf"{re.escape(kind)}#[0-9]{{10}}#[A-Za-z0-9_#:.\-]{{1,200}}")})


def _put_op(item: dict[str, Any]) -> dict[str, Any]:
    return dynamo.put_op(KIND, item, condition="attribute_not_exists(pk)")


def history_op(entry: HistoryEntry) -> dict[str, Any]:
    """The Put of a history entry, for the transaction that writes the version."""
    e = entry
    return _put_op({"pk": e.person, "sk": f"{HISTORY}#{e.at:010d}#{e.version:08d}", "kind": HISTORY, "at": e.at,
                    "version": e.version, "cause": e.cause, "actor": e.actor, "color_before": e.color_before,
                    "color_after": e.color_after, "sources_changed": list(e.sources_changed),
                    "reasons_added": list(e.reasons_added), "reasons_removed": list(e.reasons_removed),
                    "expires_at": retention.audit_expires(e.at)})


def access_op(entry: AccessEntry) -> dict[str, Any]:
    """The Put of an access log entry, for the transaction of the act it records."""
    e = entry
    return _put_op({"pk": e.person, "sk": f"{ACCESS}#{e.at:010d}#{e.access_id}", "kind": ACCESS, "at": e.at,
                    "access_id": e.access_id, "client_id": e.client_id, "role": e.role, "province": e.province,
                    "action": e.action, "basis": e.basis.to_dict() if e.basis else None, "returned": dict(e.returned),
                    "ref": e.ref, "expires_at": e.expires_at or retention.audit_expires(e.at)})


def decision_op(entry: Decision) -> dict[str, Any]:
    """The Put of a review's entry, for the transaction that records the decision."""
    e = entry
    return _put_op({"pk": e.person, "sk": f"{DECISION}#{e.at:010d}#{e.correction_id}", "kind": DECISION,
                    "correction_id": e.correction_id, "decision": e.decision, "by": e.by, "province": e.province,
                    "reason": e.reason, "at": e.at, "expires_at": retention.audit_expires(e.at)})


def append_accesses(entries: list[AccessEntry]) -> None:
    """Insert entries (each conditional, so nothing is ever overwritten), 100 per transaction."""
    for i in range(0, len(entries), 100):
        dynamo.transact([access_op(e) for e in entries[i:i + 100]])


def _history(item: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(item["pk"], int(item["at"]), int(item["version"]), item["cause"], item["actor"],
                        item.get("color_before"), item["color_after"], tuple(item.get("sources_changed") or ()),
                        tuple(item.get("reasons_added") or ()), tuple(item.get("reasons_removed") or ()))


def _access(item: dict[str, Any]) -> AccessEntry:
    basis = item.get("basis")
    return AccessEntry(item["pk"], int(item["at"]), item["access_id"], item["client_id"], item["role"],
                       item.get("province"), item["action"], Basis.from_dict(basis) if basis else None,
                       item.get("returned") or {}, item.get("ref"), item.get("expires_at"))


def _page(person: str, kind: str, limit: int, start: Key | None, **options: Any
          ) -> tuple[list[dict[str, Any]], Key | None]:
    values = {":p": person, ":k": f"{kind}#", **options.pop("values", {})}
    return dynamo.query(KIND, "pk = :p AND begins_with(sk, :k)", values, forward=False, limit=limit, start=start,
                        **options)


def history_page(person: str, limit: int, start: Key | None = None) -> tuple[list[HistoryEntry], Key | None]:
    """One page of the person's history, newest first."""
    items, last = _page(person, HISTORY, limit, start)
    return [_history(i) for i in items], last


def access_page(person: str, limit: int, start: Key | None = None, action: str | None = None
                ) -> tuple[list[AccessEntry], Key | None]:
    """One page of the person's access log, newest first; `action` keeps only entries of that action (a page
    may then be short)."""
    options: dict[str, Any] = {}
    if action is not None:
        options = {"filter_expression": "#a = :a", "names": {"#a": "action"}, "values": {":a": action}}
    items, last = _page(person, ACCESS, limit, start, **options)
    return [_access(i) for i in items], last


def accesses_since(person: str, since: int) -> list[AccessEntry]:
    """The person's access log entries since a moment."""
    items = dynamo.query_all(KIND, "pk = :p AND sk BETWEEN :from AND :to",
                             {":p": person, ":from": f"{ACCESS}#{since:010d}", ":to": f"{ACCESS}#~"})
    return [_access(i) for i in items]


HELD_KINDS = {HISTORY: "code_history", ACCESS: "access_log", DECISION: "correction_decisions"}


def held_of(person: str) -> list[Held]:
    """The person's audit trail: their code's history, the access log, review decisions."""
    return [held(HELD_KINDS.get(i.get("kind", ""), "audit"), i, "at")
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


def erase_ops(person: str) -> list[dict[str, Any]]:
    """The Deletes of every item of the person in this table (an erasure)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]})
            for i in dynamo.query_all(KIND, "pk = :p", {":p": person})]


ERASURE = "erasure"


def erasure_op(ref: str, at: int, counts: dict[str, int], kept: dict[str, int]) -> dict[str, Any]:
    """The Put of an erasure's record: a pseudonymous reference (never the person's), the time and counts."""
    return _put_op({"pk": f"{ERASURE}#{ref}", "sk": f"{ERASURE}#{at:010d}#{secrets.token_hex(4)}", "kind": ERASURE,
                    "at": at, "erased": counts, "kept": kept, "expires_at": retention.audit_expires(at)})


def erasures(ref: str) -> list[dict[str, Any]]:
    """The records of erasures under a pseudonymous reference."""
    return dynamo.query_all(KIND, "pk = :p", {":p": f"{ERASURE}#{ref}"})


def expires_for(item: dict[str, Any], now: int) -> int:
    """The `expires_at` this table's writes give an entry: AUDIT_DAYS after its moment (a backfill of entries written
    before TTL was set on them: ops/backfill.py)."""
    return retention.audit_expires(retention.latest(item, "at") or now)
