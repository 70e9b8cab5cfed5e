"""The guardians table: who may act for whom (issue 20, docs/identity.md#family-members).

One partition per person (`pk` = their reference):
- `dependant#<dependant id>`: a guardian's link to a dependant (`Link`), read on every act for the dependant;
- `guardian#<guardian id>`: the dependant's side of it (`Guardian`): `active`, or `removed` once the dependant took
  their code over, which keeps that guardian from adding them again;
- `counts`: how many dependants the person has as a guardian, how many guardians as a dependant.

Adding a dependant is one transaction: both counters under their limits, both links if absent, and the
dependant's access-log entry, so a third guardian, a sixth dependant or an unrecorded addition cannot happen.
A person's id here is their code id (security/pseudonyms.code_id), which the API names them by; the reference
it is derived from is kept beside it.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo
from chalicelib.store.held import Held, held

KIND = "guardians"
DEPENDANT, GUARDIAN, COUNTS = "dependant#", "guardian#", "counts"
ACTIVE, REMOVED = "active", "removed"
# A dependant's `removed` mark keeps that guardian from adding them again; it expires (the table's TTL) a year
# after the take-back. Active links last while the guardianship does: a removal by either side ends them.
REMOVED_KEEP_DAYS = 365


class LimitReached(Exception):
    """`which` is `dependants` (the guardian has the most) or `guardians` (the dependant has two)."""

    def __init__(self, which: str):
        super().__init__(which)
        self.which = which


class AlreadyLinked(Exception):
    """The guardian holds this dependant already, or was removed by them."""


@dataclass(frozen=True, slots=True)
class Link:
    guardian: str            # the guardian's reference
    dependant: str           # the dependant's reference
    dependant_id: str        # the dependant's code id: how the API names them
    name_masked: str
    id_last4: str
    document_type: str
    relationship: str
    group: str               # child | elderly (domain/dependants.py): the birth date is not kept
    added_at: int


@dataclass(frozen=True, slots=True)
class Guardian:
    dependant: str
    guardian: str
    guardian_id: str         # the guardian's code id
    name_masked: str         # the guardian's
    relationship: str        # the dependant is the guardian's <relationship>
    added_at: int
    status: str              # active | removed


def _link(item: dict[str, Any]) -> Link:
    return Link(item["pk"], item["dependant"], item["sk"].removeprefix(DEPENDANT), item["name_masked"],
                item["id_last4"], item["document_type"], item["relationship"], item["group"],
                int(item["added_at"]))


def _guardian(item: dict[str, Any]) -> Guardian:
    return Guardian(item["pk"], item["guardian"], item["sk"].removeprefix(GUARDIAN), item["name_masked"],
                    item["relationship"], int(item["added_at"]), item["status"])


def _count_op(person: str, counter: str, limit: int) -> dict[str, Any]:
    return dynamo.update_op(KIND, {"pk": person, "sk": COUNTS},
                            f"SET {counter} = if_not_exists({counter}, :zero) + :one",
                            {":zero": 0, ":one": 1, ":limit": limit},
                            condition=f"attribute_not_exists({counter}) OR {counter} < :limit")


def _uncount_op(person: str, counter: str) -> dict[str, Any]:
    return dynamo.update_op(KIND, {"pk": person, "sk": COUNTS}, f"SET {counter} = {counter} - :one",
                            {":one": 1, ":zero": 0}, condition=f"{counter} > :zero")


def add(link: Link, guardian: Guardian, max_dependants: int, max_guardians: int, log_op: dict[str, Any]) -> None:
    """Link a guardian and a dependant, with the dependant's access-log entry (`log_op`), all or nothing."""
    link_item = {"pk": link.guardian, "sk": DEPENDANT + link.dependant_id, "dependant": link.dependant,
                 "name_masked": link.name_masked, "id_last4": link.id_last4, "document_type": link.document_type,
                 "relationship": link.relationship, "group": link.group, "added_at": link.added_at}
    guardian_item = {"pk": guardian.dependant, "sk": GUARDIAN + guardian.guardian_id, "guardian": guardian.guardian,
                     "name_masked": guardian.name_masked, "relationship": guardian.relationship,
                     "added_at": guardian.added_at, "status": ACTIVE}
    operations = [_count_op(link.guardian, "dependants", max_dependants),
                  _count_op(link.dependant, "guardians", max_guardians),
                  dynamo.put_op(KIND, link_item, condition="attribute_not_exists(pk)"),
                  dynamo.put_op(KIND, guardian_item, condition="attribute_not_exists(pk)"), log_op]
    try:
        _transact(operations)
    except dynamo.ConditionFailed as lost:
        if 2 in lost.failed or 3 in lost.failed:
            raise AlreadyLinked() from None
        if 0 in lost.failed:
            raise LimitReached("dependants") from None
        if 1 in lost.failed:
            raise LimitReached("guardians") from None
        raise


def _transact(operations: list[dict[str, Any]], attempts: int = 5) -> None:
    """A transaction cancelled only because another one touched the same counter at that moment (no condition
    failed) is tried again after a few random milliseconds, up to `attempts` times: the conditions decide, not the
    timing. (Guardians of one dependant rarely act in the same second; five tries cover a family doing so.)"""
    for attempt in range(attempts):
        try:
            dynamo.transact(operations)
            return
        except dynamo.TransactionConflict:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))


def link(guardian: str, dependant_id: str) -> Link | None:
    """The guardian's link to a dependant; None if there is none."""
    item = dynamo.get(KIND, {"pk": guardian, "sk": DEPENDANT + dependant_id}, consistent=True)
    return _link(item) if item is not None else None


def dependants(guardian: str) -> list[Link]:
    items = dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :s)", {":p": guardian, ":s": DEPENDANT},
                             consistent=True)
    return sorted(map(_link, items), key=lambda found: found.added_at)


def guardian(dependant: str, guardian_id: str) -> Guardian | None:
    item = dynamo.get(KIND, {"pk": dependant, "sk": GUARDIAN + guardian_id}, consistent=True)
    return _guardian(item) if item is not None else None


def guardians(dependant: str) -> list[Guardian]:
    items = dynamo.query_all(KIND, "pk = :p AND begins_with(sk, :s)", {":p": dependant, ":s": GUARDIAN},
                             consistent=True)
    return sorted(map(_guardian, items), key=lambda found: found.added_at)


def remove_by_guardian(found: Link, guardian_id: str, log_op: dict[str, Any]) -> bool:
    """The guardian stops acting for the dependant: both links go, both counts drop. False if no longer linked."""
    try:
        _transact([dynamo.delete_op(KIND, {"pk": found.guardian, "sk": DEPENDANT + found.dependant_id},
                                          condition="attribute_exists(pk)"),
                         _delete_active_op(found.dependant, guardian_id),
                         _uncount_op(found.guardian, "dependants"), _uncount_op(found.dependant, "guardians"),
                         log_op])
    except dynamo.ConditionFailed:
        return False
    return True


def _delete_active_op(dependant: str, guardian_id: str) -> dict[str, Any]:
    op = dynamo.delete_op(KIND, {"pk": dependant, "sk": GUARDIAN + guardian_id}, condition="#s = :active",
                          values={":active": ACTIVE})
    op["Delete"]["ExpressionAttributeNames"] = {"#s": "status"}
    return op


def remove_by_dependant(found: Guardian, dependant_id: str, now: int) -> bool:
    """The dependant takes their code back from a guardian: the guardian's link goes, the dependant's side is kept
    as `removed` (so that guardian cannot add them again), both counts drop. False if not an active guardian."""
    dependant, guardian = found.dependant, found.guardian
    try:
        _transact([dynamo.delete_op(KIND, {"pk": guardian, "sk": DEPENDANT + dependant_id},
                                          condition="attribute_exists(pk)"),
                         dynamo.update_op(KIND, {"pk": dependant, "sk": GUARDIAN + found.guardian_id},
                                          "SET #s = :removed, removed_at = :now, expires_at = :gone",
                                          {":removed": REMOVED, ":active": ACTIVE, ":now": now,
                                           ":gone": now + REMOVED_KEEP_DAYS * 86400},
                                          condition="#s = :active", names={"#s": "status"}),
                         _uncount_op(guardian, "dependants"), _uncount_op(dependant, "guardians")])
    except dynamo.ConditionFailed:
        return False
    return True


def erase(person: str, person_id: str) -> tuple[int, int]:
    """An erasure's end of every link of the person (their code id `person_id`), both sides, each link in its own
    all-or-nothing transaction with both counts dropped, then their counts item: (dependant links ended, guardian
    links ended or take-back marks deleted). A link another request ended meanwhile is skipped. What stays: a
    take-back mark a dependant of theirs holds against them (the dependant's, until it expires)."""
    as_guardian = 0
    for found in dependants(person):
        try:
            _transact([dynamo.delete_op(KIND, {"pk": person, "sk": DEPENDANT + found.dependant_id},
                                        condition="attribute_exists(pk)"),
                       _delete_active_op(found.dependant, person_id),
                       _uncount_op(person, "dependants"), _uncount_op(found.dependant, "guardians")])
        except dynamo.ConditionFailed:
            continue
        as_guardian += 1
    as_dependant = 0
    for side in guardians(person):
        mine = {"pk": person, "sk": GUARDIAN + side.guardian_id}
        if side.status == ACTIVE:
            operations = [dynamo.delete_op(KIND, {"pk": side.guardian, "sk": DEPENDANT + person_id},
                                           condition="attribute_exists(pk)"),
                          _delete_active_op(person, side.guardian_id),
                          _uncount_op(side.guardian, "dependants"), _uncount_op(person, "guardians")]
        else:
            operations = [dynamo.delete_op(KIND, mine)]
        try:
            _transact(operations)
        except dynamo.ConditionFailed:
            continue
        as_dependant += 1
    dynamo.delete(KIND, {"pk": person, "sk": COUNTS})
    return as_guardian, as_dependant


def held_of(person: str) -> list[Held]:
    """The person's links as a guardian (`dependants`) and as a dependant (`guardians`)."""
    items = dynamo.query_all(KIND, "pk = :p", {":p": person}, consistent=True)
    return [held("dependants" if i["sk"].startswith(DEPENDANT) else "guardians", i, "added_at", drop=("dependant",
                                                                                                     "guardian"))
            for i in items if i["sk"] != COUNTS]
