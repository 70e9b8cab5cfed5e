"""Paper codes for people without a phone: issued, printed, verified online with the live color, reported lost.

docs/identity.md#paper-codes says who issues them, what the print shows and how the revocation list works.
"""
from __future__ import annotations

import contextvars
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, divisions, limits
from chalicelib.domain.colors import live_color
from chalicelib.domain.documents import Document
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.lazy import Lazy
from chalicelib.security import paper_tokens, pseudonyms
from chalicelib.security.access import Principal, Role
from chalicelib.security.paper_tokens import PaperClaims
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.services import access_log, area_levels, codes, throttle
from chalicelib.settings import get_settings
from chalicelib.store import papercodes, people

DAY = 86400
NUMBER = re.compile(r"[0-9]{12}")
LIST_PAGE = 1000
LIST_REFRESH_SECONDS = 300    # how often a checkpoint should fetch the list: the longest a lost code works offline

# the verify path overlaps its two reads (the paper code's status, the scan noted on the code) on these threads
_overlap: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="paper"))


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of `digits` (ISO/IEC 7812-1): one mistyped digit, or two swapped, is caught."""
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def is_number(value: str) -> bool:
    return NUMBER.fullmatch(value) is not None and luhn_digit(value[:11]) == value[11]


def _new_number() -> str:
    body = f"{secrets.randbelow(10**11):011d}"
    return body + luhn_digit(body)


def public(paper: papercodes.Paper, token: str | None) -> dict[str, Any]:
    return {"number": paper.number, "token": token, "name_masked": paper.name_masked, "id_last4": paper.id_last4,
            "issued_at": paper.issued_at, "expires_at": paper.expires_at, "valid_until": days.iso(paper.expires_at),
            "color_at_issue": paper.color, "issuer": paper.issuer, "status": paper.status}


def _claims(paper: papercodes.Paper) -> PaperClaims:
    return PaperClaims(paper.code_id, paper.number, paper.issued_at, paper.expires_at, paper.color)


def issue(person: str, issuer: str, issued_by: str, now: int | None = None) -> dict[str, Any]:
    """Print a paper code of the person's code, valid VALIDITY_DAYS, with the color it has now."""
    codes.still_issuing()      # a paper code is a code: none once the emergency has ended
    now = clock.now() if now is None else now
    # counted for the holder, whoever prints (a health authority's client prints for many people)
    throttle.check(limits.PAPER_CODES_PER_PERSON, person)
    code = people.get(pseudonyms.code_id(person), consistent=True)
    if code is None:
        raise NotFound("The person has no health code yet; apply first (a guardian can, for a dependant).",
                       code="no_code")
    if code.status != "active":
        raise Conflict("This code is revoked.", code="code_revoked")
    color = live_color(area_levels.live_reasons(code, now), now).value
    expires = now + paper_tokens.VALIDITY_DAYS * DAY
    for _ in range(3):
        paper = papercodes.Paper(_new_number(), code.code_id, person, code.name_masked, code.id_last4, now, expires,
                                 color, issuer, issued_by, papercodes.ACTIVE)
        try:
            papercodes.create(paper)
        except papercodes.dynamo.ConditionFailed:
            continue
        return public(paper, paper_tokens.issue(_claims(paper)))
    raise RuntimeError("could not draw a free paper code number")


def for_citizen(caller: Principal) -> dict[str, Any]:
    """A holder prints their own; a guardian acting for a dependant (X-Acting-For) prints the dependant's."""
    if caller.guardian_id is not None:
        return issue(caller.subject, "guardian", caller.guardian_id)
    return issue(caller.subject, "citizen", pseudonyms.code_id(caller.subject))


def for_resident(caller: Principal, document: Document) -> dict[str, Any]:
    """A health authority prints one for a resident of its own province (the province in the resident ID)."""
    if caller.province is None or document.number[:2] != caller.province or not divisions.is_province(
            document.number[:2]):
        raise Forbidden("A health authority prints paper codes for residents of its own province.",
                        code="outside_province")
    person = pseudonyms.document_ref(document)
    now = clock.now()
    issued = issue(person, f"province:{caller.province}", caller.subject, now)
    access_log.write([access_log.entry(person, caller, "paper_code", None, {"number": issued["number"]}, now,
                                       ref=issued["number"])])
    return issued


def by_ops(document: Document, operator: str = "ops") -> dict[str, Any]:
    """The ops command line's issue (ops/cli.py), written to the person's access log like any other."""
    person = pseudonyms.document_ref(document)
    now = clock.now()
    issued = issue(person, "ops", operator, now)
    ops = Principal(role=Role.OPS, subject=operator)
    access_log.write([access_log.entry(person, ops, "paper_code", None, {"number": issued["number"]}, now,
                                       ref=issued["number"])])
    return issued


def _paper_of(number: str) -> papercodes.Paper:
    found = papercodes.get(number) if is_number(number) else None
    if found is None:
        raise NotFound("No such paper code.", code="unknown_paper_code")
    return found


def _may_manage(caller: Principal, paper: papercodes.Paper) -> bool:
    if caller.role is Role.CITIZEN:
        return paper.person == caller.subject          # the holder, or a guardian acting for them
    if caller.role is Role.HEALTH_AUTHORITY:
        return paper.issuer == f"province:{caller.province}"
    return caller.role in (Role.OPS, Role.NATIONAL_AUTHORITY)


def revoke(caller: Principal, number: str) -> dict[str, Any]:
    """Report a paper code lost: it stops verifying online at once, and offline once checkpoints fetch the list."""
    paper = _paper_of(number)
    if not _may_manage(caller, paper):
        raise NotFound("No such paper code.", code="unknown_paper_code")
    now = clock.now()
    try:
        entry = papercodes.revoke(paper, now)
    except papercodes.NotActive:
        raise Conflict("This paper code is revoked already.", code="paper_code_revoked") from None
    if caller.role is not Role.CITIZEN:
        access_log.write([access_log.entry(paper.person, caller, "paper_code_revoked", None,
                                           {"number": paper.number}, now, ref=paper.number)])
    revoked = public(replace(paper, status=papercodes.REVOKED, revoked_at=now), None)
    return {**revoked, "revocation_sequence": entry.sequence}


def printed(caller: Principal, number: str) -> tuple[papercodes.Paper, str]:
    """A paper code and its token, to print again (the holder, or their guardian)."""
    paper = _paper_of(number)
    if not _may_manage(caller, paper):
        raise NotFound("No such paper code.", code="unknown_paper_code")
    if paper.status != papercodes.ACTIVE:
        raise Conflict("This paper code is revoked.", code="paper_code_revoked")
    return paper, paper_tokens.issue(_claims(paper))


def revocation_list(since: int) -> str:
    """The signed, incremental revocation list after sequence `since` (docs/identity.md#the-revocation-list)."""
    now = clock.now()
    if since < 0:
        raise ValidationFailed("The request has invalid fields.",
                               [{"field": "since", "message": "must be 0 or more", "type": "greater_than_equal"}])
    entries, last = papercodes.revocations_since(since, now, LIST_PAGE)
    latest = papercodes.last_sequence()
    return paper_tokens.sign_list({
        "iss": get_settings().issuer, "iat": now, "since": since, "sequence": last, "latest": latest,
        "complete": last >= latest, "next_update": now + LIST_REFRESH_SECONDS,
        "revoked": [{"seq": r.sequence, "number": r.number, "revoked_at": r.revoked_at, "exp": r.expires_at}
                    for r in entries]})


# --- verifying -----------------------------------------------------------------------------------------------------

def verify(token: str, now: int, record: Any) -> tuple[dict[str, Any] | None, Any, papercodes.Paper | None]:
    """Check a scanned paper code (a token, or its number typed by hand). Returns (refusal, code, paper):
    a refusal to answer, or the code `record(code_id)` noted the scan on and the paper code.

    For a token the paper code's status is read while the scan is noted (two calls at once: one round trip of
    waiting); a typed number is looked up first, then the scan noted."""
    if NUMBER.fullmatch(token):
        if not is_number(token):
            return _refused("malformed", "The number's check digit is wrong: it was mistyped.", now), None, None
        paper = papercodes.get(token)
        if paper is None:
            return _refused("unknown_code", "No such paper code.", now), None, None
        if paper.expires_at <= now:
            return _refused("expired", "The paper code has expired; a new one can be printed.", now), None, None
        claims = _claims(paper)
        code = record(claims.code_id)
    else:
        try:
            claims = paper_tokens.verify(token, now)
        except TokenRejected as rejected:
            return _refused(rejected.reason, rejected.message, now), None, None
        future = _overlap.get().submit(contextvars.copy_context().run, papercodes.get, claims.number)
        code = record(claims.code_id)
        paper = future.result()
        if paper is None or paper.code_id != claims.code_id:
            return _refused("unknown_code", "No such paper code.", now), None, None
    if paper.status != papercodes.ACTIVE:
        return _refused("revoked", "This paper code was reported lost and revoked.", now), None, None
    if code is None:
        return _refused("unknown_code", "No such code exists.", now), None, None
    return None, code, paper


def _refused(reason: str, message: str, now: int) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "checked_at": now}

