"""The audit table: an insert-only trail about each person."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.store import dynamo
from chalicelib.store.pages import KeyShape

KIND = "audit"


def pages(person: str, kind: str) -> KeyShape:
    """The start keys a person's list of one kind of entry gives out: sort keys `<kind>#<zero-padded time>#<what
    it is>`."""
    return KeyShape("pk", person, {"sk": re.compile(rf"{re.escape(kind)}#[0-9]{{10}}#[A-Za-z0-9_#:.\-]{{1,200}}")})


def put_op(entry: dict[str, Any]) -> dict[str, Any]:
    return dynamo.put_op(KIND, entry, condition="attribute_not_exists(pk)")


def append_many(entries: list[dict[str, Any]]) -> None:
    """Insert entries (each conditional, so nothing is ever overwritten), 100 per transaction."""
    for i in range(0, len(entries), 100):
        dynamo.transact([put_op(e) for e in entries[i:i + 100]])


def of_person(person: str, kind: str, limit: int, start: dict[str, Any] | None = None, action: str | None = None
              ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page, newest first; `action` keeps only access entries of that action (a page may then be short)."""
    options: dict[str, Any] = {}
    values = {":p": person, ":k": f"{kind}#"}
    if action is not None:
        options = {"filter_expression": "#a = :a", "names": {"#a": "action"}}
        values[":a"] = action
    return dynamo.query(KIND, "pk = :p AND begins_with(sk, :k)", values, forward=False, limit=limit, start=start,
                        **options)


def recent(person: str, kind: str, since: int) -> list[dict[str, Any]]:
    """Entries of one kind since a moment (sort keys are <kind>#<zero-padded time>#...)."""
    return dynamo.query_all(KIND, "pk = :p AND sk BETWEEN :from AND :to",
                            {":p": person, ":from": f"{kind}#{since:010d}", ":to": f"{kind}#~"})


ACCESS = "access"


def access_item(person: str, at: int, access_id: str, fields: dict[str, Any], expires_at: int) -> dict[str, Any]:
    """An entry of the person's access log (services/access_log.py): one per act on their data, insert-only."""
    return {"pk": person, "sk": f"{ACCESS}#{at:010d}#{access_id}", "kind": ACCESS, "at": at, "access_id": access_id,
            **fields, "expires_at": expires_at}
