"""The person's access log: every act on their data by anyone but themselves, in one insert-only list they read.

Look-ups, medical statuses set, local codes, health records, test results and vaccinations pushed, correction
reviews reading their history: each writes an entry (who, which province, when, what they did, on what basis,
and what they were given) in the same transaction as the act, or before answering when the act only reads.
Entries are kept ACCESS_RETENTION_DAYS. An entry that gives a province a basis to hear about the person
(docs/webhooks.md) does so for BASIS_DAYS.
"""
from __future__ import annotations

import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain.local_codes import province_name
from chalicelib.domain.remit import Basis
from chalicelib.security.access import Principal
from chalicelib.services import cursors
from chalicelib.store import audit

ACCESS_RETENTION_DAYS = 180
BASIS_DAYS = 30
DAY = 86400
# acts after which a province may hear of the person's changes (webhooks), and for how long: BASIS_DAYS
GIVES_BASIS = frozenset({"lookup", "medical_status", "local_code", "health_record", "test_result", "vaccination"})


def entry(person: str, principal: Principal, action: str, basis: Basis | None, returned: dict[str, Any],
          now: int, ref: str | None = None) -> audit.AccessEntry:
    """The entry of one act on a person's data, to write with the act (audit.access_op) or alone (write)."""
    # time-ordered to the millisecond, so a person's log lists two acts of the same second in order
    access_id = f"acc_{int(clock.now_float() * 1000):013d}{secrets.token_hex(4)}"
    return audit.AccessEntry(person, now, access_id, principal.subject, principal.role.value, principal.province,
                             action, basis, returned, ref, now + ACCESS_RETENTION_DAYS * DAY)


def write(entries: list[audit.AccessEntry]) -> None:
    """Entries for acts that only read: written before the answer leaves, so no access goes unrecorded."""
    audit.append_accesses(entries)


def provinces_with_basis(person: str, now: int) -> set[str]:
    """Provinces whose access in the last BASIS_DAYS gives them a basis to hear about the person."""
    found = audit.accesses_since(person, now - BASIS_DAYS * DAY)
    return {e.province for e in found if e.action in GIVES_BASIS and e.province}


def public(entry: audit.AccessEntry) -> dict[str, Any]:
    province = entry.province
    return {"access_id": entry.access_id, "at": entry.at, "action": entry.action, "role": entry.role,
            "client_id": entry.client_id, "province": province,
            "province_name": province_name(province) if province else None,
            "basis": entry.basis.to_dict() if entry.basis else None, "returned": dict(entry.returned),
            "ref": entry.ref}


def of_person(person: str, limit: int, cursor: str | None, action: str | None = None) -> dict[str, Any]:
    """The person's access log, newest first; of one action only when `action` is given."""
    now = clock.now()
    found, last = audit.access_page(person, limit, cursors.decode(cursor, audit.pages(person, audit.ACCESS)), action)
    return {"accesses": [public(e) for e in found if e.expires_at is None or e.expires_at > now],
            "next_cursor": cursors.encode(last)}
