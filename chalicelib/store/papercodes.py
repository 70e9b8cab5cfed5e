"""The papercodes table: printed codes and the numbered list of their revocations (docs/identity.md#paper-codes).

- `pk = paper#<number>`, `sk = paper`: one printed code (`Paper`): whose code it names, who issued it, until when,
  the color it was printed with, and `active` or `revoked`;
- `pk = revocations`, `sk = <sequence, 12 digits>`: one revocation (`Revocation`), kept until the paper code it
  names has expired (TTL `expires_at`);
- `pk = revocations`, `sk = counter`: the last sequence number given out;
- `pk = holder#<person>`, `sk = <number>`: the holder's index of their paper codes (written with each, expiring
  with it), so their data view and an erasure find them without a scan.

A revocation is one transaction: the paper code becomes `revoked` (only if it was active), the counter moves
from the last number to the next (only if no one else moved it meanwhile) and the entry under that number is
put. So entries appear in the order of their numbers, with no gaps: a checkpoint that has read up to number n
never later meets an entry below n it has not seen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo
from chalicelib.store.held import Held

KIND = "papercodes"
PAPER, REVOCATIONS, COUNTER = "paper", "revocations", "counter"
ACTIVE, REVOKED = "active", "revoked"
# DynamoDB keeps a deleted item's TTL a little while: a revocation is kept a day past its paper code's expiry
KEEP_AFTER_EXPIRY = 86400


class NotActive(Exception):
    """The paper code is unknown, or revoked already."""


@dataclass(frozen=True, slots=True)
class Paper:
    number: str
    code_id: str
    person: str
    name_masked: str
    id_last4: str
    issued_at: int
    expires_at: int
    color: str          # as printed
    issuer: str         # ops, province:<code> (a health authority's), guardian, citizen
    issued_by: str      # the client id, or the guardian's or holder's code id
    status: str
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    sequence: int
    number: str
    revoked_at: int
    expires_at: int     # the paper code's: after it, the entry no longer matters


def _paper(item: dict[str, Any]) -> Paper:
    revoked = item.get("revoked_at")
    return Paper(item["pk"].removeprefix("paper#"), item["code_id"], item["person"], item["name_masked"],
                 item["id_last4"], int(item["issued_at"]), int(item["expires_at"]), item["color"], item["issuer"],
                 item["issued_by"], item["status"], None if revoked is None else int(revoked))


def _holder_key(person: str, number: str) -> dict[str, str]:
    return {"pk": f"holder#{person}", "sk": number}


def create(paper: Paper) -> None:
    """The paper code and its holder's index entry, in one transaction; ConditionFailed if the number is taken
    (the caller draws another)."""
    dynamo.transact([
        dynamo.put_op(KIND, {"pk": f"paper#{paper.number}", "sk": PAPER, "code_id": paper.code_id,
                             "person": paper.person, "name_masked": paper.name_masked, "id_last4": paper.id_last4,
                             "issued_at": paper.issued_at, "expires_at": paper.expires_at, "color": paper.color,
                             "issuer": paper.issuer, "issued_by": paper.issued_by, "status": paper.status},
                      condition="attribute_not_exists(pk)"),
        dynamo.put_op(KIND, {**_holder_key(paper.person, paper.number), "expires_at": paper.expires_at})])


def get(number: str) -> Paper | None:
    item = dynamo.get(KIND, {"pk": f"paper#{number}", "sk": PAPER}, consistent=True)
    return _paper(item) if item is not None else None


def last_sequence() -> int:
    item = dynamo.get(KIND, {"pk": REVOCATIONS, "sk": COUNTER}, consistent=True)
    return int(item["seq"]) if item else 0


def revoke(paper: Paper, now: int, attempts: int = 5) -> Revocation:
    """Revoke an active paper code under the next sequence number; NotActive if it is not active."""
    for _ in range(attempts):
        last = last_sequence()
        entry = Revocation(last + 1, paper.number, now, paper.expires_at)
        counter = ("seq = :last", {":last": last}) if last else ("attribute_not_exists(pk)", None)
        try:
            dynamo.transact([
                dynamo.update_op(KIND, {"pk": f"paper#{paper.number}", "sk": PAPER},
                                 "SET #s = :revoked, revoked_at = :now",
                                 {":revoked": REVOKED, ":active": ACTIVE, ":now": now}, condition="#s = :active",
                                 names={"#s": "status"}),
                dynamo.put_op(KIND, {"pk": REVOCATIONS, "sk": COUNTER, "seq": entry.sequence},
                              condition=counter[0], values=counter[1]),
                dynamo.put_op(KIND, {"pk": REVOCATIONS, "sk": f"{entry.sequence:012d}", "number": entry.number,
                                     "revoked_at": now, "paper_expires_at": entry.expires_at,
                                     "expires_at": entry.expires_at + KEEP_AFTER_EXPIRY},
                              condition="attribute_not_exists(pk)"),
            ])
            return entry
        except dynamo.ConditionFailed as lost:
            if 0 in lost.failed:
                raise NotActive() from None
            continue          # another revocation took the number: take the next
        except dynamo.TransactionConflict:
            continue
    raise dynamo.TransactionConflict("the revocation counter kept moving")


def revocations_since(sequence: int, now: int, limit: int = 1000) -> tuple[list[Revocation], int]:
    """Entries after `sequence`, oldest first, at most `limit` read, without those whose paper code has expired;
    and the last sequence number read (where the next page starts), `sequence` if none."""
    items, _ = dynamo.query(KIND, "pk = :p AND sk BETWEEN :from AND :to",
                            {":p": REVOCATIONS, ":from": f"{sequence + 1:012d}", ":to": "9" * 12},
                            limit=limit, consistent=True)
    found = [Revocation(int(i["sk"]), i["number"], int(i["revoked_at"]), int(i["paper_expires_at"])) for i in items]
    return [r for r in found if r.expires_at > now], (found[-1].sequence if found else sequence)


# --- a holder's paper codes (their own data view, an erasure) ------------------------------------------------------

def numbers_of(person: str) -> list[str]:
    """The numbers of the person's paper codes, from their index (expired ones until TTL deletes the entry)."""
    return [i["sk"] for i in dynamo.query_all(KIND, "pk = :p", {":p": f"holder#{person}"}, consistent=True)]


def of_holder(person: str) -> list[Paper]:
    """The person's paper codes that still exist, oldest first."""
    found = [get(number) for number in numbers_of(person)]
    return sorted((p for p in found if p is not None), key=lambda p: p.issued_at)


def erase_ops(person: str, number: str) -> list[dict[str, Any]]:
    """The Deletes of a paper code and its holder's index entry (an erasure, once it is revoked or expired: its
    revocation entry, which names only the number, stays for the list until the paper would have expired)."""
    return [dynamo.delete_op(KIND, {"pk": f"paper#{number}", "sk": PAPER}),
            dynamo.delete_op(KIND, _holder_key(person, number))]


def held_of(person: str) -> list[Held]:
    return [Held("paper_codes", p.issued_at, p.expires_at,
                 {"number": p.number, "issued_at": p.issued_at, "color": p.color, "issuer": p.issuer,
                  "status": p.status, "revoked_at": p.revoked_at, "name_masked": p.name_masked,
                  "id_last4": p.id_last4}) for p in of_holder(person)]
