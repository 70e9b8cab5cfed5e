"""The platform's secrets and what is keyed with them (chalicelib/security): the bundle and its signing keys,
the keyed hashes that stand in for people and addresses, sealed webhook secrets, and webhook signatures.
Fast tier: each test that writes secrets writes a file of its own; no database.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import stat
import time
import types
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib import settings
from chalicelib.domain import documents
from chalicelib.domain.documents import DocumentType
from chalicelib.security import keyring, pseudonyms, sealing, webhook_signing
from tests import people

pytestmark = pytest.mark.fast

NOW = 1_800_000_000


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stage whose secrets live in this test's own folder, not yet created."""
    monkeypatch.setattr(keyring, "_bundle", None)
    settings.override(secrets_dir=str(tmp_path / "secrets"))
    yield tmp_path / "secrets"
    keyring._bundle = None


# --- the bundle ---------------------------------------------------------------------------------------------

def test_a_stage_without_secrets_gets_a_new_bundle_in_a_private_file_on_first_use(folder):
    bundle = keyring.bundle()
    path = folder / keyring.FILE_NAME
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert keyring.SecretBundle.from_json(stored).pepper == bundle.pepper
    for name in ("pepper", "session_key", "code_key", "client_key"):
        assert len(base64.b64decode(stored[name])) == 32
    assert len({bundle.pepper, bundle.session_key, bundle.code_key, bundle.client_key}) == 4
    [only] = bundle.signing_keys
    assert only.retired_at is None and only.signs_from is None and only.signing_start == only.created_at
    assert "PRIVATE KEY" in only.private_pem and len(only.kid) == 2
    assert stored["retired_kids"] == [] and sorted(path.parent.iterdir()) == [path]


def test_the_bundle_is_read_once_and_again_when_older_than_its_refresh_time(folder, monkeypatch):
    first = keyring.bundle()
    assert keyring.bundle() is first
    clock = {"now": first.loaded_at + keyring.REFRESH_SECONDS}
    monkeypatch.setattr(keyring.time, "time", lambda: clock["now"])
    assert keyring.bundle() is first                      # exactly REFRESH_SECONDS old: still fresh
    clock["now"] += 1
    again = keyring.bundle()
    assert again is not first and again.pepper == first.pepper
    clock["now"] += 0.5
    assert keyring.reload() is not again
    assert keyring.REFRESH_SECONDS == 300


def test_a_file_another_process_wrote_first_wins(folder):
    folder.mkdir(mode=0o700)
    theirs = keyring.generate_bundle(NOW)
    (folder / keyring.FILE_NAME).write_text(json.dumps(theirs.to_json()))
    assert keyring.bundle().pepper == theirs.pepper


def test_a_folder_left_open_is_closed_again(folder):
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    keyring.bundle()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_without_a_secrets_folder_a_non_prod_stage_will_not_start(monkeypatch):
    monkeypatch.setattr(keyring, "_bundle", None)
    settings.override(secrets_dir=None)
    with pytest.raises(RuntimeError) as refused:
        keyring.bundle()
    assert str(refused.value) == "HEALTHCODE_SECRETS_DIR is not set for a non-prod stage"



def test_a_fresh_copy_is_served_without_waiting_for_a_reload_another_thread_holds_the_lock_for(folder, monkeypatch):
    first = keyring.bundle()
    taken: list[str] = []

    class Held:
        """The lock, held by a thread reading the bundle: entering it is waiting for that read."""

        def __enter__(self) -> None:
            taken.append("lock")

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(keyring, "_lock", Held())
    monkeypatch.setattr(keyring.time, "time", lambda: first.loaded_at + keyring.REFRESH_SECONDS)
    assert keyring.bundle() is first and taken == []


def test_threads_that_found_the_copy_stale_together_read_the_secrets_once(folder, monkeypatch):
    """Two threads see a stale copy; the first through the lock reads the secrets, the second, once it has the
    lock, finds that copy fresh (exactly REFRESH_SECONDS old still is) and reads nothing."""
    stale = keyring.bundle()
    now = stale.loaded_at + 10_000
    fresh = replace(stale, loaded_at=now - keyring.REFRESH_SECONDS)
    reads: list[str] = []

    class ReadByAnotherThreadMeanwhile:
        def __enter__(self) -> None:
            keyring._bundle = fresh

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(keyring, "_lock", ReadByAnotherThreadMeanwhile())
    monkeypatch.setattr(keyring, "_read", lambda: reads.append("read") or stale)
    monkeypatch.setattr(keyring.time, "time", lambda: now)
    assert keyring.bundle() is fresh and reads == []


def test_a_new_bundle_is_stamped_as_loaded_when_it_was_made():
    before = time.time()
    made = keyring.generate_bundle(NOW)
    assert before <= made.loaded_at <= time.time()


def test_the_secrets_folder_is_made_private_from_its_first_moment_whatever_the_umask(tmp_path, monkeypatch):
    narrowed: list[Path] = []
    real_chmod = Path.chmod
    monkeypatch.setattr(Path, "chmod", lambda self, mode, **kw: narrowed.append(self) or real_chmod(self, mode, **kw))
    folder = tmp_path / "not" / "yet" / "secrets"              # its parents do not exist either
    previous = os.umask(0)
    try:
        keyring._private_directory(folder)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and narrowed == []   # made so, never narrowed after
    keyring._private_directory(folder)                                     # private already: left as it is
    assert narrowed == []


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o701, 0o655, 0o610, 0o604])
def test_a_secrets_folder_anyone_else_may_use_is_closed_whatever_its_owner_may_do(tmp_path, mode):
    folder = tmp_path / "secrets"
    folder.mkdir()
    folder.chmod(mode)
    keyring._private_directory(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_secrets_are_written_first_under_a_private_name_of_their_own_beside_the_file(folder, monkeypatch):
    """While it is written the new file is a hidden `.secrets.json.<pid>.<8 hex>.tmp`, mode 0600 whatever the
    umask; it takes the file's place only when complete."""
    seen: list[tuple[str, int]] = []
    real_dump = json.dump

    def dump(data: Any, fh: Any) -> None:
        seen.extend((p.name, stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir())
        real_dump(data, fh)

    monkeypatch.setattr(keyring, "json", types.SimpleNamespace(dump=dump, loads=json.loads, dumps=json.dumps))
    previous = os.umask(0)
    try:
        keyring.bundle()
    finally:
        os.umask(previous)
    [(name, mode)] = seen
    assert re.fullmatch(rf"\.secrets\.json\.{os.getpid()}\.[0-9a-f]{{8}}\.tmp", name) and mode == 0o600
    assert [p.name for p in folder.iterdir()] == [keyring.FILE_NAME]
    assert stat.S_IMODE((folder / keyring.FILE_NAME).stat().st_mode) == 0o600


def test_a_temporary_name_that_exists_already_is_never_written_through(folder, monkeypatch):
    """Another process's file (or a link planted there) under the name we picked: refused, and left unchanged."""
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(keyring.secrets, "token_hex", lambda n: "0badcafe")
    path = folder / keyring.FILE_NAME
    planted = folder / f".{keyring.FILE_NAME}.{os.getpid()}.0badcafe.tmp"
    planted.write_text("theirs")
    with pytest.raises(FileExistsError):
        keyring._write_private(path, keyring.generate_bundle(NOW))
    assert planted.read_text() == "theirs" and not path.exists()
    elsewhere = folder / "elsewhere"
    planted.unlink()
    planted.symlink_to(elsewhere)
    with pytest.raises(FileExistsError):
        keyring._write_private(path, keyring.generate_bundle(NOW))
    assert not elsewhere.exists()


def test_a_write_that_fails_leaves_no_temporary_file_and_says_why(folder, monkeypatch):
    folder.mkdir(mode=0o700)

    def broken(data: Any, fh: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keyring, "json", types.SimpleNamespace(dump=broken, loads=json.loads, dumps=json.dumps))
    with pytest.raises(OSError, match="No space left"):
        keyring._write_private(folder / keyring.FILE_NAME, keyring.generate_bundle(NOW))
    assert list(folder.iterdir()) == []

def test_a_bundle_survives_its_json():
    bundle = keyring.generate_bundle(NOW)
    bundle = keyring.SecretBundle(bundle.pepper, bundle.session_key, bundle.code_key, bundle.client_key,
                                  bundle.signing_keys + (keyring.SigningKeyRecord("zz", "pem", 1, 2, 3),),
                                  retired_kids=("aa", "bb"))
    back = keyring.SecretBundle.from_json(json.loads(json.dumps(bundle.to_json())))
    assert (back.pepper, back.session_key, back.code_key, back.client_key, back.signing_keys, back.retired_kids) == (
        bundle.pepper, bundle.session_key, bundle.code_key, bundle.client_key, bundle.signing_keys, ("aa", "bb"))
    older = {k: v for k, v in bundle.to_json().items() if k not in ("signing_keys", "retired_kids")}
    read = keyring.SecretBundle.from_json(older)
    assert read.signing_keys == () == read.retired_kids


def test_a_key_signs_from_its_creation_or_from_when_it_was_scheduled_to():
    assert keyring.SigningKeyRecord("a", "pem", 100).signing_start == 100
    assert keyring.SigningKeyRecord("a", "pem", 100, signs_from=700).signing_start == 700


def test_a_new_kid_is_two_url_safe_characters_never_one_taken_and_three_once_3000_are_taken():
    taken = frozenset(f"{i:02x}" for i in range(200))
    for _ in range(50):
        kid = keyring.new_signing_key(NOW, taken).kid
        assert re.fullmatch(r"[A-Za-z0-9_-]{2}", kid) and kid not in taken
    assert len(keyring.new_signing_key(NOW, frozenset(f"k{i}" for i in range(2999))).kid) == 2
    assert len(keyring.new_signing_key(NOW, frozenset(f"k{i}" for i in range(3000))).kid) == 3
    assert keyring.new_signing_key(NOW).created_at == NOW


def test_a_rotation_publishes_the_new_key_retires_the_old_when_it_starts_and_drops_keys_retired_a_day_ago(folder):
    first = keyring.bundle().signing_keys[0]
    fresh = keyring.rotate_signing_key(NOW, publish_for=600)
    assert (fresh.created_at, fresh.signs_from, fresh.retired_at) == (NOW, NOW + 600, None)
    keys = {k.kid: k for k in keyring.bundle().signing_keys}
    assert keys[first.kid].retired_at == NOW + 600 and keys[fresh.kid].retired_at is None
    # a second short of a day after it retired the first key is kept; a day after, it is dropped and its kid kept
    day_later = NOW + 600 + keyring.PRUNE_RETIRED_AFTER
    second = keyring.rotate_signing_key(day_later - 1)
    kids = {k.kid: k for k in keyring.bundle().signing_keys}
    assert first.kid in kids and kids[fresh.kid].retired_at == day_later - 1
    assert kids[second.kid].retired_at is None and second.signing_start == day_later - 1
    third = keyring.rotate_signing_key(day_later)
    bundle = keyring.bundle()
    assert [k.kid for k in bundle.signing_keys] == [fresh.kid, second.kid, third.kid]
    assert bundle.retired_kids == (first.kid,)
    assert stat.S_IMODE((folder / keyring.FILE_NAME).stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [keyring.FILE_NAME]



def test_a_rotation_never_gives_the_new_key_a_kid_in_use_or_retired(folder, monkeypatch):
    in_use = keyring.bundle().signing_keys[0].kid
    keyring.rotate_signing_key(NOW)
    keyring.rotate_signing_key(NOW + keyring.PRUNE_RETIRED_AFTER + 1)     # the first key is dropped: retired
    bundle = keyring.reload()
    assert bundle.retired_kids == (in_use,)
    live = [k.kid for k in bundle.signing_keys]
    drawn = iter([in_use + "x", live[0] + "x", live[1] + "x", "n3wx"])     # token_urlsafe(3) is 4 characters
    monkeypatch.setattr(keyring.secrets, "token_urlsafe", lambda n: next(drawn))
    fresh = keyring.rotate_signing_key(NOW + keyring.PRUNE_RETIRED_AFTER + 2)
    assert fresh.kid == "n3" and fresh.created_at == NOW + keyring.PRUNE_RETIRED_AFTER + 2


def test_a_key_retired_before_it_started_signing_keeps_the_moment_it_was_to_start(folder):
    first = keyring.rotate_signing_key(NOW, publish_for=600)          # published now, signs from NOW + 600
    keyring.rotate_signing_key(NOW + 100, publish_for=600)            # replaced before that
    kept = {k.kid: k for k in keyring.bundle().signing_keys}[first.kid]
    assert (kept.signs_from, kept.retired_at, kept.signing_start) == (NOW + 600, NOW + 700, NOW + 600)


@pytest.mark.parametrize("change", [
    lambda: keyring.rotate_signing_key(NOW),
    lambda: keyring.end_emergency(NOW),
    keyring.rotate_pepper_away,
], ids=["rotate signing key", "end emergency", "rotate pepper away"])
def test_a_change_starts_from_the_file_as_stored_not_from_a_copy_read_a_moment_ago(folder, change):
    """Another process (the ops CLI, another worker) changed the file since this one read it, even a moment
    ago: the change is made on top of theirs, which it would otherwise undo."""
    keyring.bundle()
    path = folder / keyring.FILE_NAME
    theirs = keyring.SecretBundle.from_json(json.loads(path.read_text()))
    theirs = replace(theirs, signing_keys=theirs.signing_keys + (keyring.new_signing_key(NOW - 60),),
                     emergency_ended_at=NOW - 30)
    path.write_text(json.dumps(theirs.to_json()))
    change()
    stored = keyring.SecretBundle.from_json(json.loads(path.read_text()))
    assert {k.kid for k in theirs.signing_keys} <= {k.kid for k in stored.signing_keys}
    assert stored.emergency_ended_at == NOW - 30


def vanishing(error: OSError) -> Any:
    """A step that fails after the temporary file was removed by someone else (a cleanup of the folder)."""
    def fail(*args: Any, **kwargs: Any) -> None:
        for leftover in Path(keyring.get_settings().secrets_dir or "").glob(".*.tmp"):
            leftover.unlink()
        raise error
    return fail


def test_a_failed_write_reports_its_own_error_even_when_its_temporary_file_is_gone(folder, monkeypatch):
    keyring.bundle()
    full = OSError(28, "No space left on device")
    monkeypatch.setattr(keyring, "json", types.SimpleNamespace(dump=vanishing(full), loads=json.loads,
                                                               dumps=json.dumps))
    with pytest.raises(OSError) as refused:
        keyring._write_private(folder / keyring.FILE_NAME, keyring.generate_bundle(NOW))
    assert refused.value is full and [p.name for p in folder.iterdir()] == [keyring.FILE_NAME]
    monkeypatch.setattr(keyring, "json", json)
    moved = OSError(18, "Invalid cross-device link")
    monkeypatch.setattr(Path, "replace", vanishing(moved))
    with pytest.raises(OSError) as refused:
        keyring.rotate_signing_key(NOW)
    assert refused.value is moved and [p.name for p in folder.iterdir()] == [keyring.FILE_NAME]

def test_the_end_of_the_emergency_is_kept_in_the_bundle_its_first_moment_stays_and_a_rotation_keeps_it(folder):
    assert keyring.bundle().emergency_ended_at is None and "emergency_ended_at" not in keyring.bundle().to_json()
    assert keyring.end_emergency(NOW) == NOW
    assert keyring.end_emergency(NOW + 60) == NOW                       # ended once: the first moment stays
    assert keyring.bundle().emergency_ended_at == NOW
    assert json.loads((folder / keyring.FILE_NAME).read_text())["emergency_ended_at"] == NOW
    keyring.rotate_signing_key(NOW + 120)
    assert keyring.reload().emergency_ended_at == NOW


def test_rotating_the_pepper_away_replaces_the_pepper_and_the_code_key_and_keeps_every_other_key(folder):
    before = keyring.bundle()
    keyring.rotate_pepper_away()
    after = keyring.reload()
    assert after.pepper != before.pepper and after.code_key != before.code_key
    assert len(after.pepper) == len(after.code_key) == 32
    assert (after.session_key, after.client_key, after.signing_keys, after.retired_kids) == (
        before.session_key, before.client_key, before.signing_keys, before.retired_kids)


# --- keyed hashes -------------------------------------------------------------------------------------------

ID = "510104199001011230"


def test_a_person_reference_is_hmac_sha256_of_the_id_number_under_the_pepper_128_bits_in_hex():
    expected = hmac.new(keyring.bundle().pepper, ID.encode(), hashlib.sha256).hexdigest()[:32]
    assert pseudonyms.person_ref(ID) == expected
    assert pseudonyms.person_ref("11010519491231002X") != expected


def test_a_code_id_is_88_bits_of_hmac_under_its_own_key_in_15_url_safe_characters():
    ref = pseudonyms.person_ref(ID)
    digest = hmac.new(keyring.bundle().code_key, ref.encode(), hashlib.sha256).digest()[:11]
    code = pseudonyms.code_id(ref)
    assert code == base64.urlsafe_b64encode(digest).decode().rstrip("=") and len(code) == 15
    assert code != pseudonyms.code_id(pseudonyms.person_ref("11010519491231002X"))


def test_client_secrets_and_addresses_are_hashed_under_their_own_keys():
    bundle = keyring.bundle()
    assert pseudonyms.client_secret_hash("hcs_s") == hmac.new(bundle.client_key, b"hcs_s", hashlib.sha256).hexdigest()
    assert pseudonyms.address_ref("203.0.113.9") == hmac.new(bundle.pepper, b"address:203.0.113.9",
                                                             hashlib.sha256).hexdigest()[:24]


def test_each_province_knows_a_person_by_a_subject_of_its_own():
    ref = pseudonyms.person_ref(ID)
    digest = hmac.new(keyring.bundle().code_key, f"subject:44:{ref}".encode(), hashlib.sha256).digest()[:15]
    assert pseudonyms.subject_for("44", ref) == "sub_" + base64.urlsafe_b64encode(digest).decode()
    assert len(pseudonyms.subject_for("44", ref)) == 24
    assert pseudonyms.subject_for("51", ref) != pseudonyms.subject_for("44", ref)



def test_a_documents_reference_is_a_resident_ids_person_reference_and_else_keyed_by_its_qualified_number():
    pepper = keyring.bundle().pepper
    resident = documents.parse(DocumentType.RESIDENT_ID, ID)
    assert pseudonyms.document_ref(resident) == pseudonyms.person_ref(ID)
    number = people.passport()
    passport = documents.parse(DocumentType.PASSPORT, number, "GBR")
    expected = hmac.new(pepper, f"passport:GBR:{number}".encode(), hashlib.sha256).hexdigest()[:32]
    assert pseudonyms.document_ref(passport) == expected
    permit = people.hk_macao_permit(issues=3)          # renewed: the issue count is not part of the reference
    assert pseudonyms.document_ref(documents.parse(DocumentType.HK_MACAO_TRAVEL_PERMIT, permit)) == hmac.new(
        pepper, f"hk_macao_travel_permit:{permit[:9]}".encode(), hashlib.sha256).hexdigest()[:32]


def test_an_erasure_is_recorded_under_a_keyed_hash_of_the_reference_that_is_not_the_reference():
    ref = pseudonyms.person_ref(ID)
    expected = hmac.new(keyring.bundle().code_key, f"erasure:{ref}".encode(), hashlib.sha256).hexdigest()[:32]
    assert pseudonyms.erasure_ref(ref) == expected and re.fullmatch(r"[0-9a-f]{32}", expected)
    assert expected != ref and expected != pseudonyms.erasure_ref(pseudonyms.person_ref("11010519491231002X"))

# --- sealed secrets -----------------------------------------------------------------------------------------

def test_a_sealed_secret_opens_only_under_the_same_purpose_and_unchanged():
    sealed = sealing.seal("whsec_abc", "webhook")
    assert sealing.unseal(sealed, "webhook") == "whsec_abc"
    assert sealed != sealing.seal("whsec_abc", "webhook")        # a fresh nonce each time
    raw = base64.b64decode(sealed)
    assert len(raw) == 12 + len("whsec_abc") + 16                   # nonce, ciphertext, tag
    with pytest.raises(InvalidTag):
        sealing.unseal(sealed, "other")
    tampered = base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()
    with pytest.raises(InvalidTag):
        sealing.unseal(tampered, "webhook")


def test_the_sealing_key_is_derived_from_the_session_key_per_purpose():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = hmac.new(keyring.bundle().session_key, b"seal:webhook", hashlib.sha256).digest()
    raw = base64.b64decode(sealing.seal("whsec_abc", "webhook"))
    assert AESGCM(key).decrypt(raw[:12], raw[12:], b"webhook") == b"whsec_abc"


# --- webhook signatures: Standard Webhooks, checked with its own library -------------------------------------

def test_a_signature_verifies_with_the_standard_webhooks_library_as_a_province_would():
    secret = webhook_signing.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    body = '{"type":"area.level_changed","data":{"area":"440106"}}'
    timestamp = int(dt.datetime.now(dt.UTC).timestamp())
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(timestamp),
               "webhook-signature": webhook_signing.header([secret], "evt_1", timestamp, body)}
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    for changed in ({"webhook-id": "evt_2"}, {"webhook-timestamp": str(timestamp + 1)}):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**headers, **changed})


def test_a_signature_is_the_one_the_library_computes_and_each_live_secret_signs():
    old, new = webhook_signing.new_secret(), webhook_signing.new_secret()
    moment = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    expected = Webhook(old).sign("evt_1", moment, "{}")
    assert webhook_signing.signature(old, "evt_1", int(moment.timestamp()), "{}") == expected
    both = webhook_signing.header([old, new], "evt_1", int(moment.timestamp()), "{}")
    assert both == f"{expected} {Webhook(new).sign('evt_1', moment, '{}')}"
