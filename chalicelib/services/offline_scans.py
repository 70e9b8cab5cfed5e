"""Scans a checkpoint verified offline, uploaded later in batches (POST /v1/verifications/batch).

Each scan is verified as of the moment it was made (`scanned_at`): signed by a key the platform published then
(a retired key stays in the secrets bundle a day, keyring.PRUNE_RETIRED_AFTER, hence the 24-hour bound) and
unexpired then. It is recorded in the scans table once per (checkpoint client, scan key), however often the batch
is sent: the scan id is derived from both, and the row is written only if it is not there yet. Each scan gets its
own answer (recorded, duplicate, refused with a reason); a refusal is final, so a device may drop the scan.

An online verification that came with the device's scan key has the same id (store/scans.py keyed_id), so a
scan verified online and also queued offline (the online answer came too late) is one row. The online verify's
hot path stays one DynamoDB round trip: the row and its key's marker are written from the people table's stream.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib import clock
from chalicelib.domain.colors import live_color
from chalicelib.domain.medical import FEVER_CELSIUS
from chalicelib.lazy import Lazy
from chalicelib.security import keyring, paper_tokens, province_tokens, pseudonyms, qr_tokens
from chalicelib.security.access import Principal
from chalicelib.services import area_levels
from chalicelib.settings import get_settings
from chalicelib.store import dynamo, localcodes, people, scans

MAX_SCANS = 200             # per upload
MAX_AGE_SECONDS = 86400     # a scan older than this is refused: its key may have left the bundle
FUTURE_SKEW_SECONDS = 120   # a device clock this far ahead of ours is tolerated
DAY = 86400
WRITERS = 8                 # conditional puts in flight at once for one upload

_pool: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=WRITERS,
                                                                   thread_name_prefix="offline-scans"))


@dataclass(frozen=True)
class OfflineScan:
    scan_key: str
    token: str
    checkpoint_id: str
    temperature: float | None
    scanned_at: int
    offline_color: str | None


@dataclass
class _Verified:
    scan: OfflineScan
    code_id: str
    issuer: str
    person: str | None = None     # a province token's holder (its color is the consolidated one)


@dataclass(frozen=True)
class PublishedKey:
    public: Any
    published_until: int | None  # in the JWKS until its last token has expired (None: still signing)


def _build_history(bundle: keyring.SecretBundle, qr_ttl: int) -> dict[str, PublishedKey]:
    from cryptography.hazmat.primitives import serialization

    history = {}
    for record in bundle.signing_keys:   # a retired key stays in the bundle a day (keyring.PRUNE_RETIRED_AFTER)
        public = serialization.load_pem_private_key(record.private_pem.encode(), password=None).public_key()
        until = None if record.retired_at is None else record.retired_at + qr_ttl + qr_tokens.LEEWAY_SECONDS
        history[record.kid] = PublishedKey(public, until)
    return history


_history: Lazy[dict[str, PublishedKey]] = Lazy()


def verify_as_of(token: str, ttl: int, at: int) -> tuple[str, dict[str, Any]]:
    """(code id, claims) of a token that was valid at the moment `at` (an offline scan, uploaded later): signed
    by a key published then, and unexpired then. Only for uploads of offline scans: the live verify is `verify`."""
    header = qr_tokens.unverified_header(token)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise qr_tokens.TokenRejected("unknown_key", "The token names no signing key.")
    bundle = keyring.bundle()
    key = _history.get(bundle.loaded_at, lambda: _build_history(bundle, ttl)).get(kid)
    if key is None or (key.published_until is not None and at > key.published_until):
        raise qr_tokens.TokenRejected("unknown_key",
                                      "The token is signed by a key the platform did not publish then.")
    if header.get("alg") != qr_tokens.ALGORITHM:
        raise qr_tokens.TokenRejected("bad_signature", f"The token is not signed with {qr_tokens.ALGORITHM}.")
    code_id = qr_tokens.checked_subject(token, key.public, qr_tokens.ALGORITHM, ["exp", "sub"], at, "code")
    return code_id, jwt.decode(token, options={"verify_signature": False})


def upload(principal: Principal, batch: Sequence[OfflineScan]) -> dict[str, Any]:
    now = clock.now()
    ttl = get_settings().qr_token_ttl
    results: dict[int, dict[str, Any]] = {}
    verified: dict[int, _Verified] = {}
    for i, item in enumerate(batch):
        refusal = _check(item, ttl, now)
        if isinstance(refusal, _Verified):
            verified[i] = refusal
        else:
            results[i] = refusal
    codes = people.many(v.code_id for v in verified.values())
    writes: dict[int, scans.Row] = {}
    for i, found in verified.items():
        item = found.scan
        code = codes.get(found.code_id)
        if found.person is None and code is None:
            results[i] = _refused(item, "unknown_code", "No such code exists.")
            continue
        if code is not None and code.status != "active":
            results[i] = _refused(item, "revoked", "This code has been revoked.")
            continue
        if found.person is not None:
            from chalicelib.services import sync

            color = sync.consolidated(found.person, item.scanned_at)["color"]
        else:
            assert code is not None
            color = live_color(area_levels.live_reasons(code, item.scanned_at), item.scanned_at).value
        scan = scans.Scan(scans.keyed_id(principal.subject, item.scan_key), item.scanned_at, item.checkpoint_id,
                          principal.subject, principal.area, item.temperature,
                          item.temperature is not None and item.temperature >= FEVER_CELSIUS, found.issuer, True,
                          keyed=True)
        writes[i] = scans.Row(found.code_id, scan, color,
                              item.scanned_at + get_settings().scan_retention_days * DAY,
                              scans.Offline(now, item.offline_color))
    for i, status in zip(writes, _write_all(list(writes.values())), strict=True):
        row = writes[i]
        results[i] = {"scan_key": batch[i].scan_key, "status": status, "color": row.color,
                      "scan_id": row.scan.scan_id, "issuer": row.scan.issuer}
    answered = [results[i] for i in range(len(batch))]
    counts = {s: sum(1 for r in answered if r["status"] == s) for s in ("recorded", "duplicate", "refused")}
    return {"results": answered, **counts, "uploaded_at": now}


def _write_all(rows: list[scans.Row]) -> list[str]:
    """recorded or duplicate for each row, in order; any other failure fails the upload (503 or 500), and the
    device sends it again: what was written is then a duplicate."""
    def write(row: scans.Row) -> str:
        try:
            scans.record(row)
            return "recorded"
        except dynamo.ConditionFailed:
            return "duplicate"

    if len(rows) <= 1:
        return [write(row) for row in rows]
    return list(_pool.get().map(write, rows))


def _refused(item: OfflineScan, reason: str, message: str) -> dict[str, Any]:
    return {"scan_key": item.scan_key, "status": "refused", "reason": reason, "message": message}


def _check(item: OfflineScan, ttl: int, now: int) -> _Verified | dict[str, Any]:
    if item.scanned_at > now + FUTURE_SKEW_SECONDS:
        return _refused(item, "scanned_in_future",
                        f"The scan is dated more than {FUTURE_SKEW_SECONDS} s ahead of the platform's clock.")
    if item.scanned_at < now - MAX_AGE_SECONDS:
        return _refused(item, "scan_too_old", "Offline scans must be uploaded within 24 hours of the scan.")
    try:
        code_id, _ = verify_as_of(item.token, ttl, item.scanned_at)
        return _Verified(item, code_id, "national")
    except qr_tokens.TokenRejected as rejected:
        provincial = province_tokens.issuer_province(item.token) is not None
        if not provincial and rejected.reason in ("unknown_key", "malformed") and paper_tokens.is_paper(item.token):
            # a paper code scanned offline (the page checked it against its revocation list): the holder's code
            try:
                return _Verified(item, paper_tokens.verify(item.token, item.scanned_at).code_id, "national")
            except qr_tokens.TokenRejected as refused:
                return _refused(item, refused.reason, refused.message)
        if rejected.reason not in ("unknown_key", "bad_signature") or not provincial:
            return _refused(item, rejected.reason, rejected.message)
    try:
        province, local_code_id = province_tokens.verify(item.token, item.scanned_at)
    except qr_tokens.TokenRejected as rejected:
        return _refused(item, rejected.reason, rejected.message)
    local = localcodes.holder(province, local_code_id) if province_tokens.names_a_local_code(local_code_id) else None
    if local is None:
        return _refused(item, "unknown_code", "The province has not shared this local code with the platform.")
    return _Verified(item, pseudonyms.code_id(local.person), f"province:{province}", local.person)
