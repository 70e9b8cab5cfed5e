"""The prod stage's secrets (chalicelib/security/keyring.py): one Secrets Manager secret holding the bundle's JSON.
Reading it, creating it, and every change written as a new version of it, refused when another change landed
since the version it was based on. Fast tier: the client is a test double kept in the keyring's client cache,
so no test reaches AWS; the only real client built here is never called.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import settings
from chalicelib.security import keyring

pytestmark = pytest.mark.fast

NOW = 1_800_000_000
SECRET = "healthcode/prod/secrets"
REGION = "cn-northwest-1"
CHANGED = "The secret changed while rotating; run the rotation again."


class SecretsManagerDouble:
    """The three calls the keyring makes, keyword-only as boto3's are: every put makes a new version (a new
    VersionId), reads answer the current version, and creating a secret whose name exists is refused."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[str, str]]] = {}   # name -> [(VersionId, SecretString)], oldest first
        self.descriptions: dict[str, str] = {}
        self.reads: list[str] = []
        self.after_read: Callable[[], None] | None = None     # runs once, after the next read: a concurrent change

    def _new_version(self, name: str, secret_string: str) -> str:
        version = str(uuid.uuid4())
        self.versions.setdefault(name, []).append((version, secret_string))
        return version

    def get_secret_value(self, *, SecretId: str) -> dict[str, Any]:  # noqa: N803 (boto3's parameter names)
        self.reads.append(SecretId)
        if SecretId not in self.versions:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no such secret"}},
                              "GetSecretValue")
        version, secret_string = self.versions[SecretId][-1]
        answer = {"Name": SecretId, "VersionId": version, "SecretString": secret_string,
                  "VersionStages": ["AWSCURRENT"]}
        if self.after_read is not None:
            change, self.after_read = self.after_read, None
            change()
        return answer

    def put_secret_value(self, *, SecretId: str, SecretString: str) -> dict[str, Any]:  # noqa: N803
        if SecretId not in self.versions:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no such secret"}},
                              "PutSecretValue")
        return {"Name": SecretId, "VersionId": self._new_version(SecretId, SecretString)}

    def create_secret(self, *, Name: str, SecretString: str, Description: str) -> dict[str, Any]:  # noqa: N803
        if Name in self.versions:
            raise ClientError({"Error": {"Code": "ResourceExistsException",
                                         "Message": f"The operation failed because the secret {Name} already "
                                                    "exists."}}, "CreateSecret")
        self.descriptions[Name] = Description
        return {"Name": Name, "VersionId": self._new_version(Name, SecretString)}

    def stored(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.versions[SECRET][index][1])


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretsManagerDouble]:
    """The prod stage's settings (a secret id, a region) with the double as that region's client. The dev
    secrets folder is set too, to see that prod never writes it."""
    double = SecretsManagerDouble()
    monkeypatch.setattr(keyring, "_clients", {REGION: double})
    monkeypatch.setattr(keyring, "_bundle", None)
    settings.override(secret_id=SECRET, region=REGION, secrets_dir=str(tmp_path / "secrets"))
    yield double
    keyring._bundle = None


def the_dev_folder_is_untouched(tmp_path: Path) -> bool:
    return not (tmp_path / "secrets").exists()


# --- creating and reading the secret ------------------------------------------------------------------------

def test_secrets_init_creates_the_secret_with_a_new_bundle_and_every_container_reads_that_bundle(manager, tmp_path):
    created = keyring.create_secret(SECRET, NOW)
    [(version, _)] = manager.versions[SECRET]
    assert manager.descriptions[SECRET] == "healthcode secrets bundle: ID pepper, token keys, QR signing keys"
    stored = keyring.SecretBundle.from_json(manager.stored())
    assert (stored.pepper, stored.session_key, stored.code_key, stored.client_key, stored.signing_keys) == (
        created.pepper, created.session_key, created.code_key, created.client_key, created.signing_keys)
    assert created.signing_keys[0].created_at == NOW
    read = keyring.bundle()
    assert (read.pepper, read.signing_keys) == (created.pepper, created.signing_keys)
    assert manager.reads == [SECRET] and the_dev_folder_is_untouched(tmp_path)


def test_secrets_init_never_replaces_an_existing_secret(manager):
    first = keyring.create_secret(SECRET, NOW)
    with pytest.raises(ClientError) as refused:
        keyring.create_secret(SECRET, NOW + 60)
    assert refused.value.response["Error"]["Code"] == "ResourceExistsException"
    assert len(manager.versions[SECRET]) == 1 and keyring.bundle().pepper == first.pepper


def test_a_container_reads_the_secret_once_and_again_after_its_refresh_time(manager, monkeypatch):
    keyring.create_secret(SECRET, NOW)
    first = keyring.bundle()
    assert keyring.bundle() is first and manager.reads == [SECRET]
    monkeypatch.setattr(keyring.time, "time", lambda: first.loaded_at + keyring.REFRESH_SECONDS + 1)
    again = keyring.bundle()
    assert again is not first and again.pepper == first.pepper and manager.reads == [SECRET, SECRET]


# --- changes: each a new version, based on the version read -------------------------------------------------

def test_a_rotation_in_prod_writes_a_new_version_based_on_the_one_it_read_and_every_later_read_sees_it(manager,
                                                                                                       tmp_path):
    keyring.create_secret(SECRET, NOW)
    before = keyring.bundle()
    [old] = before.signing_keys
    fresh = keyring.rotate_signing_key(NOW + 60, publish_for=600)
    assert len(manager.versions[SECRET]) == 2
    assert keyring.SecretBundle.from_json(manager.stored(0)).signing_keys == (old,)   # the old version stays as it was
    stored = keyring.SecretBundle.from_json(manager.stored())
    assert [k.kid for k in stored.signing_keys] == [old.kid, fresh.kid] and fresh.kid != old.kid
    assert stored.signing_keys[0].retired_at == NOW + 660 and stored.signing_keys[1] == fresh
    assert (fresh.created_at, fresh.signs_from, fresh.retired_at) == (NOW + 60, NOW + 660, None)
    assert (stored.pepper, stored.session_key, stored.code_key, stored.client_key) == (
        before.pepper, before.session_key, before.code_key, before.client_key)
    # this container reads the new version at once, without waiting for its refresh time
    assert keyring.bundle().signing_keys == stored.signing_keys
    assert the_dev_folder_is_untouched(tmp_path)


def test_a_rotation_starts_from_the_secret_as_stored_not_from_this_containers_older_copy(manager):
    keyring.create_secret(SECRET, NOW)
    keyring.bundle()                                          # this container's copy: one key
    other = keyring.SecretBundle.from_json(manager.stored())  # another container rotated meanwhile: two keys
    other = keyring.SecretBundle(other.pepper, other.session_key, other.code_key, other.client_key,
                                 other.signing_keys + (keyring.new_signing_key(NOW + 30),))
    manager.put_secret_value(SecretId=SECRET, SecretString=json.dumps(other.to_json()))
    fresh = keyring.rotate_signing_key(NOW + 60)
    assert [k.kid for k in keyring.SecretBundle.from_json(manager.stored()).signing_keys] == [
        k.kid for k in other.signing_keys] + [fresh.kid]


def other_rotation(manager: SecretsManagerDouble) -> Callable[[], None]:
    """Another operator's change, landing between our read and our write."""
    def land() -> None:
        theirs = keyring.SecretBundle.from_json(manager.stored())
        theirs = keyring.SecretBundle(theirs.pepper, theirs.session_key, theirs.code_key, theirs.client_key,
                                      theirs.signing_keys + (keyring.new_signing_key(NOW + 30),))
        manager.put_secret_value(SecretId=SECRET, SecretString=json.dumps(theirs.to_json()))
    return land


@pytest.mark.parametrize("change", [
    lambda: keyring.rotate_signing_key(NOW + 60),
    lambda: keyring.end_emergency(NOW + 60),
    keyring.rotate_pepper_away,
], ids=["rotate signing key", "end emergency", "rotate pepper away"])
def test_a_change_that_another_landed_before_is_refused_and_writes_nothing(manager, change):
    keyring.create_secret(SECRET, NOW)
    manager.after_read = other_rotation(manager)
    with pytest.raises(RuntimeError) as refused:
        change()
    assert str(refused.value) == CHANGED
    [_, theirs] = manager.versions[SECRET]                        # theirs is the last version, nothing after it
    assert len(keyring.SecretBundle.from_json(manager.stored()).signing_keys) == 2
    assert manager.versions[SECRET][-1] == theirs


def test_the_end_of_the_emergency_in_prod_is_a_new_version_and_its_first_moment_stays(manager, tmp_path):
    keyring.create_secret(SECRET, NOW)
    before = keyring.bundle()
    assert before.emergency_ended_at is None
    assert keyring.end_emergency(NOW + 60) == NOW + 60
    assert len(manager.versions[SECRET]) == 2 and manager.stored()["emergency_ended_at"] == NOW + 60
    assert "emergency_ended_at" not in manager.stored(0)
    assert keyring.bundle().emergency_ended_at == NOW + 60           # read again at once
    stored = keyring.SecretBundle.from_json(manager.stored())
    assert (stored.pepper, stored.signing_keys) == (before.pepper, before.signing_keys)
    assert keyring.end_emergency(NOW + 120) == NOW + 60             # ended once: nothing written again
    assert len(manager.versions[SECRET]) == 2
    keyring.rotate_signing_key(NOW + 180)
    assert manager.stored()["emergency_ended_at"] == NOW + 60       # a rotation keeps it
    assert the_dev_folder_is_untouched(tmp_path)


def test_the_end_of_the_emergency_is_read_from_the_secret_as_stored_not_from_a_cached_copy(manager):
    keyring.create_secret(SECRET, NOW)
    keyring.bundle()                                              # cached: no end yet
    ended = keyring.SecretBundle.from_json(manager.stored())
    manager.put_secret_value(SecretId=SECRET, SecretString=json.dumps({**ended.to_json(), "emergency_ended_at": NOW}))
    assert keyring.end_emergency(NOW + 60) == NOW and len(manager.versions[SECRET]) == 2


def test_rotating_the_pepper_away_in_prod_writes_a_new_version_with_only_the_pepper_and_code_key_new(manager,
                                                                                                     tmp_path):
    keyring.create_secret(SECRET, NOW)
    keyring.end_emergency(NOW + 60)
    before = keyring.bundle()
    keyring.rotate_pepper_away()
    assert len(manager.versions[SECRET]) == 3
    stored = keyring.SecretBundle.from_json(manager.stored())
    assert stored.pepper != before.pepper and stored.code_key != before.code_key
    assert stored.pepper != stored.code_key and len(stored.pepper) == len(stored.code_key) == 32
    assert (stored.session_key, stored.client_key, stored.signing_keys, stored.retired_kids,
            stored.emergency_ended_at) == (before.session_key, before.client_key, before.signing_keys,
                                           before.retired_kids, NOW + 60)
    assert keyring.bundle().pepper == stored.pepper                 # read again at once
    assert the_dev_folder_is_untouched(tmp_path)


# --- the client ---------------------------------------------------------------------------------------------

def test_one_secrets_manager_client_per_region_built_on_first_use_and_kept(monkeypatch):
    # building a boto3 client makes no request: nothing here reaches AWS
    monkeypatch.setattr(keyring, "_clients", {})
    settings.override(region="eu-central-1")
    client = keyring._secrets_manager()
    assert (client.meta.service_model.service_name, client.meta.region_name) == ("secretsmanager", "eu-central-1")
    assert keyring._secrets_manager() is client and keyring._clients == {"eu-central-1": client}
    settings.override(region="cn-northwest-1")
    other = keyring._secrets_manager()
    assert other is not client and other.meta.region_name == "cn-northwest-1"
    assert set(keyring._clients) == {"eu-central-1", "cn-northwest-1"}
