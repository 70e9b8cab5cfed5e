"""Idempotent retries: the same Idempotency-Key and body get the first answer back, without a second write.

We follow Powertools' idempotency record design but not its decorator: that one
wraps a Lambda handler's whole event, while here one Chalice function serves many
routes and the key must be scoped to the caller and the operation.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.domain import idnumber
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.store import idempotency as records

KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,128}$")
IN_PROGRESS_SECONDS = 30
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def run(caller: str, operation: str, key: str | None, raw_body: bytes,
        action: Callable[[], tuple[int, Any]]) -> Outcome:
    if key is None:
        status, body = action()
        return Outcome(status, body, False)
    if not KEY.match(key):
        raise ValidationFailed("Idempotency-Key must be 1-128 characters of letters, digits, '_', '-', ':' or '.'.",
                               [{"field": "Idempotency-Key", "message": "invalid", "type": "header"}])
    if idnumber.contains_id_number(key):  # it is stored, as part of the record's key
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "Idempotency-Key", "message": "must not contain a resident ID number: the platform never "
                                                   "stores one", "type": "contains_id_number"}])
    record_key = f"{caller}#{operation}#{key}"
    fingerprint = hashlib.sha256(raw_body).hexdigest()
    now = clock.now()
    existing = records.claim(record_key, fingerprint, now, IN_PROGRESS_SECONDS, KEEP_SECONDS)
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise ValidationFailed("This Idempotency-Key was used with a different request body.",
                                   code="idempotency_key_reused")
        if existing.status == records.COMPLETED and existing.body is not None and existing.status_code is not None:
            return Outcome(existing.status_code, json.loads(existing.body), True)
        raise Conflict("A request with this Idempotency-Key is in progress; retry shortly.",
                       code="request_in_progress")
    try:
        status, body = action()
    except Exception:
        records.release(record_key)
        raise
    records.complete(record_key, status, json.dumps(body, separators=(",", ":"), ensure_ascii=False))
    return Outcome(status, body, False)
