"""The platform's secrets: ID pepper, token keys and the QR signing keys.

dev/test read a JSON file generated on first run in HEALTHCODE_SECRETS_DIR (an
ignored folder); prod reads one Secrets Manager secret (HEALTHCODE_SECRET_ID)
holding the same JSON. Either way the bundle is loaded once per container and
re-read at most every REFRESH_SECONDS, or sooner when a token names a key we do
not know yet (another container rotated it).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chalicelib.settings import get_settings

REFRESH_SECONDS = 300
PRUNE_RETIRED_AFTER = 86400
FILE_NAME = "secrets.json"


@dataclass(frozen=True)
class SigningKeyRecord:
    kid: str
    private_pem: str
    created_at: int
    retired_at: int | None = None   # stops signing then; verifies until its last token expires
    signs_from: int | None = None   # published in the JWKS at once, signs from then (None: created_at)

    @property
    def signing_start(self) -> int:
        return self.created_at if self.signs_from is None else self.signs_from


@dataclass(frozen=True)
class SecretBundle:
    pepper: bytes           # HMAC key for ID numbers
    session_key: bytes      # HS256 key of platform access tokens
    code_key: bytes         # derives opaque code ids from person references
    client_key: bytes       # HMAC key for client secrets
    signing_keys: tuple[SigningKeyRecord, ...] = field(default=())
    loaded_at: float = 0.0
    retired_kids: tuple[str, ...] = ()   # kids of dropped keys: never issued again, so no verifier that
                                         # cached an old key by its kid meets a new token under that kid
    emergency_ended_at: int | None = None  # the stage issues no codes or QR tokens from then (ops `emergency end`)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SecretBundle:
        raw = lambda name: base64.b64decode(data[name])  # noqa: E731
        keys = tuple(SigningKeyRecord(**k) for k in data.get("signing_keys", []))
        return cls(raw("pepper"), raw("session_key"), raw("code_key"), raw("client_key"), keys, time.time(),
                   tuple(data.get("retired_kids", [])), data.get("emergency_ended_at"))

    def to_json(self) -> dict[str, Any]:
        enc = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return {"pepper": enc(self.pepper), "session_key": enc(self.session_key), "code_key": enc(self.code_key),
                "client_key": enc(self.client_key),
                "signing_keys": [k.__dict__ for k in self.signing_keys], "retired_kids": list(self.retired_kids),
                **({"emergency_ended_at": self.emergency_ended_at} if self.emergency_ended_at is not None else {})}


def new_signing_key(now: int, taken: frozenset[str] = frozenset()) -> SigningKeyRecord:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    # two url-safe characters name 4,096 keys, ten years of daily rotation, and every character
    # counts in the QR (version 9 holds 180 bytes at level M); past 3,000 used kids, three characters
    length = 2 if len(taken) < 3000 else 3
    kid = secrets.token_urlsafe(3)[:length]
    while kid in taken:
        kid = secrets.token_urlsafe(3)[:length]
    return SigningKeyRecord(kid=kid, private_pem=pem, created_at=now)


def generate_bundle(now: int) -> SecretBundle:
    return SecretBundle(secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(32),
                        secrets.token_bytes(32), (new_signing_key(now),), time.time())


_lock = threading.Lock()
_bundle: SecretBundle | None = None


def _dev_path() -> Path:
    directory = get_settings().secrets_dir
    if not directory:
        raise RuntimeError("HEALTHCODE_SECRETS_DIR is not set for a non-prod stage")
    return Path(directory) / FILE_NAME


def _private_directory(directory: Path) -> None:
    """The secrets' folder, open to its owner only (0700): made so, or made so again if it was left open."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)


def _write_private(path: Path, bundle: SecretBundle) -> Path:
    """A new file beside `path` holding the bundle, that only its owner could read from the moment it existed:
    created with mode 0600 (never written first and narrowed after), and never an existing file (O_EXCL)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(bundle.to_json(), fh)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _read_dev() -> SecretBundle:
    path = _dev_path()
    _private_directory(path.parent)
    if not path.exists():
        tmp = _write_private(path, generate_bundle(int(time.time())))
        try:
            os.link(tmp, path)  # fails if another process created it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return SecretBundle.from_json(json.loads(path.read_text()))


_clients: dict[str, Any] = {}


def _secrets_manager() -> Any:
    """One Secrets Manager client per container and region, built on first use."""
    region = get_settings().region
    if region not in _clients:
        import boto3

        _clients[region] = boto3.session.Session().client("secretsmanager", region_name=region)
    return _clients[region]


def _read_secrets_manager(secret_id: str) -> SecretBundle:
    response = _secrets_manager().get_secret_value(SecretId=secret_id)
    return SecretBundle.from_json(json.loads(response["SecretString"]))


def _read() -> SecretBundle:
    settings = get_settings()
    if settings.secret_id:
        return _read_secrets_manager(settings.secret_id)
    return _read_dev()


def bundle(max_age: float = REFRESH_SECONDS) -> SecretBundle:
    global _bundle
    current = _bundle
    if current is None or time.time() - current.loaded_at > max_age:
        with _lock:
            if _bundle is None or time.time() - _bundle.loaded_at > max_age:
                _bundle = _read()
            current = _bundle
    return current


def reload() -> SecretBundle:
    return bundle(max_age=0)


def create_secret(secret_id: str, now: int) -> SecretBundle:
    """prod set-up (ops CLI `secrets init`): a new bundle in a new Secrets Manager secret.

    Refuses to replace an existing secret: its pepper is what every stored person reference is
    keyed with, so losing it loses them all."""
    fresh = generate_bundle(now)
    _secrets_manager().create_secret(Name=secret_id, SecretString=json.dumps(fresh.to_json()),
                                     Description="healthcode secrets bundle: ID pepper, token keys, QR signing keys")
    return fresh


def _write(updated: SecretBundle, based_on: str | None) -> None:
    """Store the bundle where it is read from: a new version of the prod secret, or the dev file."""
    settings = get_settings()
    if settings.secret_id:
        client = _secrets_manager()
        current = client.get_secret_value(SecretId=settings.secret_id)["VersionId"]
        if current != based_on:  # another rotation landed since we read: redo ours on top of it
            raise RuntimeError("The secret changed while rotating; run the rotation again.")
        client.put_secret_value(SecretId=settings.secret_id, SecretString=json.dumps(updated.to_json()))
        return
    path = _dev_path()
    _private_directory(path.parent)
    tmp = _write_private(path, updated)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def rotate_signing_key(now: int, publish_for: int = 0) -> SigningKeyRecord:
    """Add a new signing key, published at once, signing `publish_for` seconds later.

    Every container re-reads the bundle within REFRESH_SECONDS, so a `publish_for` at least that
    long means no verifier ever meets a token signed by a key it has not loaded yet. The keys it
    replaces stop signing when it starts, and verify until their last token has expired.
    dev/test rewrite the local file; prod writes a new version of the Secrets Manager secret, same JSON.
    """
    settings = get_settings()
    based_on = None
    if settings.secret_id:
        response = _secrets_manager().get_secret_value(SecretId=settings.secret_id)
        based_on = response["VersionId"]
        current = SecretBundle.from_json(json.loads(response["SecretString"]))
    else:
        current = bundle(max_age=0)
    fresh = new_signing_key(now, frozenset(k.kid for k in current.signing_keys) | frozenset(current.retired_kids))
    fresh = SigningKeyRecord(fresh.kid, fresh.private_pem, now, None, now + publish_for)
    keys = tuple(k if k.retired_at else SigningKeyRecord(k.kid, k.private_pem, k.created_at, now + publish_for,
                                                         k.signs_from)
                 for k in current.signing_keys
                 # a key retired a day ago verifies nothing any more (QR tokens live minutes): drop it, so the
                 # bundle stays far below Secrets Manager's 64 KB however often keys rotate
                 if k.retired_at is None or k.retired_at + PRUNE_RETIRED_AFTER > now) + (fresh,)
    # by kid: a key kept with its retirement set is a new record, not a dropped key
    kept = {k.kid for k in keys}
    dropped = tuple(k.kid for k in current.signing_keys if k.kid not in kept)
    updated = SecretBundle(current.pepper, current.session_key, current.code_key, current.client_key, keys,
                           retired_kids=current.retired_kids + dropped, emergency_ended_at=current.emergency_ended_at)
    _write(updated, based_on)
    reload()
    return fresh


def _current_for_update() -> tuple[SecretBundle, str | None]:
    """The bundle as stored now (not a cached copy), and the secret's version it was read at (prod)."""
    settings = get_settings()
    if settings.secret_id:
        response = _secrets_manager().get_secret_value(SecretId=settings.secret_id)
        return SecretBundle.from_json(json.loads(response["SecretString"])), response["VersionId"]
    return bundle(max_age=0), None


def end_emergency(now: int) -> int:
    """Mark the stage's emergency ended (ops `emergency end`): from then, once a container has re-read the
    bundle (within REFRESH_SECONDS), it issues no codes and no QR tokens. Kept when set already: the first
    moment stays the moment. Returns it."""
    current, based_on = _current_for_update()
    if current.emergency_ended_at is not None:
        return current.emergency_ended_at
    _write(replace(current, emergency_ended_at=now), based_on)
    reload()
    return now


def rotate_pepper_away() -> None:
    """Replace the ID pepper and the code key with fresh random ones, keeping no copy of the old: every person
    reference, code id, province subject and erasure reference left anywhere (a log line, a backup, a
    province's copy) can no longer be linked to an ID number or to one another. The other keys stay: the
    client key (clients still authenticate), the session key (it also seals the webhook secrets) and the QR
    signing keys (the end-of-emergency attestation is signed with a key the JWKS publishes)."""
    current, based_on = _current_for_update()
    _write(replace(current, pepper=secrets.token_bytes(32), code_key=secrets.token_bytes(32)), based_on)
    reload()
