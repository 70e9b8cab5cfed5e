"""The end of the emergency (ops `emergency end`, docs/deploy.md "Ending the emergency") on DynamoDB Local.

Each test runs on tables and a secrets file of its own (a fresh table prefix, a fresh secrets folder), so
purging every table and rotating the pepper away leaves the rest of the suite's stage as it was.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner

from chalicelib import clock, settings
from chalicelib.domain import days
from chalicelib.security import keyring, pseudonyms
from chalicelib.security.access import Role
from chalicelib.store import dynamo
from infra import bootstrap
from ops import emergency
from ops.cli import main
from tests import people
from tests.conftest import Citizen, auth, client_token, dump
from tests.test_retention import scan, sync_local_code


@pytest.fixture
def own_stage(tmp_path: Path, dynamodb: Any, app_module: Any) -> Any:
    """Tables under a new prefix, a new secrets file, and a pump for those tables' streams; all undone after."""
    from infra.local import pump as pumps

    saved = dict(os.environ)
    prefix = f"e{secrets.token_hex(3)}"
    os.environ.update({"HEALTHCODE_TABLE_PREFIX": prefix, "HEALTHCODE_SECRETS_DIR": str(tmp_path / "secrets")})
    settings.reset()
    keyring._bundle = None
    bootstrap.bootstrap(dynamo.client(), prefix)
    pump = pumps.for_app(app_module, dynamo.client(), dynamo.streams_client(), prefix).start_at_latest()
    try:
        yield pump
    finally:
        names = emergency.all_tables(prefix)
        os.environ.clear()
        os.environ.update(saved)
        settings.reset()
        keyring._bundle = None
        for name in names:
            dynamo.client().delete_table(TableName=name)


def ops(*args: str) -> Any:
    return CliRunner().invoke(main, ["--stage", "test", *args], catch_exceptions=False)


def counts(names: list[str]) -> dict[str, int]:
    return {name: emergency.exact_count(dynamo.client(), name) for name in names}


def everything(names: list[str]) -> str:
    return json.dumps([dynamo.client().scan(TableName=name)["Items"] for name in names])


def seed(client: Any, pump: Any) -> tuple[list[Citizen], list[str]]:
    """Two people with most kinds of personal data, and six with a code only; returns the two, and the strings that
    name them in the tables."""
    guangdong = auth(client_token(client, Role.PROVINCE, province="44"))
    authority = auth(client_token(client, Role.HEALTH_AUTHORITY, province="44"))
    gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    first = Citizen(client, people.in_province("44"), people.name())
    second = Citizen(client, people.id_number(), people.name())
    for person in (first, second, *(Citizen(client, people.id_number(), people.name()) for _ in range(6))):
        applied = person.apply(current_area="440106")
        assert applied.status_code == 201, applied.json_body
    day = days.today(clock.now()) - dt.timedelta(days=2)
    assert client.post("/v1/trips", headers=first.headers, body=dump({
        "date": day.isoformat(), "origin": "510104", "destination": "440106", "mode": "car"})).status_code == 201
    checked_in = client.post("/v1/checkins", headers=first.headers,
                             body=dump({"area": "440106", "temperature": 36.6}))
    assert checked_in.status_code == 201, checked_in.json_body
    scan(client, gate, first)
    scan(client, gate, second)
    local_code_id = f"gd-end-{first.id_number[-6:]}"
    sync_local_code(client, guangdong, first, "green", local_code_id)
    assert client.post("/v1/health-statuses", headers=authority, body=dump(
        {"id_number": second.id_number, "status": "close_contact"})).status_code == 201
    pump.drain()
    refs = [pseudonyms.person_ref(p.id_number) for p in (first, second)]
    needles = [*refs, *(pseudonyms.code_id(r) for r in refs), local_code_id, first.id_number, second.id_number]
    return [first, second], needles


def test_the_end_of_the_emergency_purges_rotates_and_attests(client, own_stage, tmp_path, monkeypatch):
    prefix = settings.get_settings().table_prefix
    names = emergency.all_tables(prefix)
    personal = sorted(emergency.personal_tables(prefix))
    kept = [n for n in names if n not in personal]
    (first, second), needles = seed(client, own_stage)
    before = counts(names)
    stored = everything(personal)
    assert all(n in stored for n in needles[:4])  # the people are there, under their references and code ids
    for kind in ("people", "scans", "trips", "visits", "checkins", "medical", "localcodes", "audit"):
        assert before[f"{prefix}-{kind}"] > 0, kind
    old_pepper = base64.b64encode(keyring.bundle().pepper).decode()
    attestation, state = tmp_path / "attestation.jws", tmp_path / "state.json"
    common = ["--attestation", str(attestation), "--state", str(state), "--segments", "2"]

    # the stage must be named again: nothing happens otherwise
    refused = ops("emergency", "end", "--confirm", "prod", *common)
    assert refused.exit_code == 2 and "--confirm" in refused.output
    assert not state.exists()
    assert client.get("/v1/codes/me/qr", headers=first.headers).status_code == 200
    before = counts(names)   # that QR token counted against a rate limit: one more counter

    # interrupted after three batches of a one-item page each (in the people table, the first purged, with eight
    # codes in two segments): the progress is saved, and issuing has stopped
    monkeypatch.setattr(emergency, "PAGE", 1)
    stopped = ops("emergency", "end", "--confirm", "test", *common, "--max-batches", "3")
    assert stopped.exit_code == 1 and "run the same command again to resume" in stopped.output
    progress = json.loads(state.read_text())
    assert progress["before"] == before and progress["pepper_rotated_at"] is None
    assert progress["counts"] == {f"{prefix}-people": 3}
    assert any(s["key"] for s in progress["progress"][f"{prefix}-people"].values())  # where to resume
    halfway = counts(personal)
    assert {n: before[n] - halfway[n] for n in personal if before[n] != halfway[n]} == {f"{prefix}-people": 3}
    monkeypatch.setattr(emergency, "PAGE", 3)   # the rest in pages of three: many a key to resume from
    assert not attestation.exists()
    applied = first.apply()
    assert applied.status_code == 410 and applied.json_body["error"]["code"] == "emergency_ended"
    qr = client.get("/v1/codes/me/qr", headers=second.headers)
    assert qr.status_code == 410 and qr.json_body["error"]["code"] == "emergency_ended"
    paper = client.post("/v1/paper-codes", headers=second.headers, body=dump({}))
    assert paper.status_code == 410 and paper.json_body["error"]["code"] == "emergency_ended"

    # run again: it resumes and finishes
    done = ops("emergency", "end", "--confirm", "test", *common)
    assert done.exit_code == 0, done.output
    deleted = json.loads(state.read_text())["counts"]   # and the rate-limit counters of the refusals since
    assert all(deleted[n] >= before[n] for n in personal if before[n]) and set(deleted) <= set(personal)

    # a scan of every table finds no personal data: the personal tables are empty, the others name no one; the
    # stream functions, given the deletions, write nothing back
    own_stage.drain()
    assert counts(personal) == dict.fromkeys(personal, 0)
    assert counts(kept) == {n: before[n] for n in kept}
    left = everything(names)
    assert not [n for n in needles if n in left]

    # the pepper is gone: the same ID number no longer gives the same reference, and the file has no old key
    assert pseudonyms.person_ref(first.id_number) != needles[0]
    assert pseudonyms.code_id(pseudonyms.person_ref(first.id_number)) not in needles
    secrets_file = Path(settings.get_settings().secrets_dir) / keyring.FILE_NAME
    assert old_pepper not in secrets_file.read_text() and keyring.bundle().emergency_ended_at is not None
    # a new login works, but no code or QR token is issued any more, and nothing is left to show
    again = Citizen(client, first.id_number, first.name)
    assert again.apply().json_body["error"]["code"] == "emergency_ended"
    assert client.get("/v1/codes/me/qr?format=svg", headers=again.headers).status_code == 410
    assert client.get("/v1/codes/me", headers=again.headers).json_body["error"]["code"] == "no_code"

    # the attestation: written and printed, verifiable with the JWKS the app serves
    token = attestation.read_text().strip()
    assert done.output.strip().splitlines()[-1] == token
    header = jwt.get_unverified_header(token)
    jwks = client.get("/.well-known/jwks.json").json_body
    [jwk] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=["ES256"])
    assert claims["purpose"] == "emergency-end" and claims["stage"] == "test" and claims["kid"] == header["kid"]
    assert claims["emergency_ended_at"] <= claims["pepper_rotated_at"] <= claims["iat"] <= clock.now()
    assert claims["tables"] == {n: {"personal_data": n in personal, "before": before[n],
                                    "after": 0 if n in personal else before[n]} for n in names}

    # changing one count breaks the signature
    head, payload, signature = token.split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_claims["tables"][f"{prefix}-people"]["after"] = 1
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged_payload}.{signature}", key, algorithms=["ES256"])

    # running it again changes nothing and attests the same: every table as it is
    assert ops("emergency", "end", "--confirm", "test", *common).exit_code == 0
    assert counts(personal) == dict.fromkeys(personal, 0)
