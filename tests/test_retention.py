"""Data that expires (docs/retention.md): every item kept about a person carries its TTL, set when it is written,
and once that moment passes the item goes, and the code with it or without it still answers.

DynamoDB Local's own TTL deletions cannot be relied on here (infra/local/ttl.py says what it does and does not
delete), so the tests delete expired items with infra/local/ttl.reap, which does what DynamoDB's TTL does: by
the wall clock, each item only if still expired. Items that must expire are written with the app's clock moved
back.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain import days, retention
from chalicelib.domain.retention import DAY
from chalicelib.security import pseudonyms
from chalicelib.security.access import Role
from chalicelib.settings import get_settings
from chalicelib.store import dynamo, people
from infra import bootstrap
from infra.local import ttl
from infra.local.pump import scheduled_event
from infra.package import WITHOUT_PERSONAL_DATA
from tests import people as identities
from tests.conftest import auth, client_token, dump
from tests.test_ops_cli import _keep_the_environment, ops  # noqa: F401 (a fixture)


def personal_tables() -> dict[str, str]:
    """kind (the table name's suffix) -> template resource, for every table that holds personal data."""
    found = {}
    for resource, table in bootstrap.table_resources().items():
        if resource not in WITHOUT_PERSONAL_DATA:
            name = table["TableName"]["Fn::Sub"]
            found[name.removeprefix("${TablePrefix}-")] = resource
    return found


def items_about(*needles: str, tables: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every item, in every table holding personal data (or in `tables`), that names one of `needles` (a
    person's reference, their code id, a correction's id, a local code's id)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in tables or personal_tables():
        for item in dynamo.scan_all(kind):
            text = json.dumps(item, default=str)
            if any(n in text for n in needles):
                found.setdefault(kind, []).append(item)
    return found


def kind_of(table: str, item: dict[str, Any]) -> str:
    """The kind of item, by its key layout (the store modules' docstrings)."""
    sk = str(item.get("sk", ""))
    if table == "medical":
        return "medical:" + sk.split("#")[0]
    if table == "localcodes":
        return "localcodes:alias" if sk == "alias" else "localcodes:code"
    if table == "corrections":
        return "corrections:" + (item["pk"].split("#")[0] if "#" in item["pk"] else "request")
    if table == "audit":
        return "audit:" + sk.split("#")[0]
    return table


def expire() -> dict[str, int]:
    """What DynamoDB's TTL would have deleted by now, deleted: the count per table."""
    return ttl.reap(dynamo.client(), get_settings().table_prefix)


@pytest.fixture
def guangdong(client):
    return auth(client_token(client, Role.PROVINCE, province="44"))


def sync_local_code(client, headers, person, color: str, local_code_id: str, **extra: Any) -> None:
    synced = client.post("/v1/sync/local-codes", headers=headers, body=dump({"province": "44", "records": [{
        "id_number": person.id_number, "color": color, "local_code_id": local_code_id,
        "issued_at": clock.now() - 60, "updated_at": clock.now() - 60, "version": 1, **extra}]}))
    assert synced.status_code == 200, synced.json_body


def scan(client, gate, person) -> dict[str, Any]:
    verified = client.post("/v1/verifications", headers=gate,
                           body=dump({"token": person.qr_token(), "checkpoint_id": "retention-gate"}))
    assert verified.status_code == 200, verified.json_body
    return verified.json_body


def test_every_item_kept_about_a_person_carries_its_expiry(client, citizen, guangdong, health_authority, pump):
    person = citizen(identities.in_province("44"))
    # Yunfu and Yangjiang: counties no other test raises, so nothing but this test's own sources holds the code
    assert person.apply(current_area="445302").status_code == 201
    ref = pseudonyms.person_ref(person.id_number)
    code_id = pseudonyms.code_id(ref)
    day = days.today(clock.now()) - dt.timedelta(days=2)
    assert client.post("/v1/trips", headers=person.headers, body=dump({
        "date": day.isoformat(), "origin": "445302", "destination": "441702", "mode": "car"})).status_code == 201
    gate = auth(client_token(client, Role.CHECKPOINT, area="445302"))
    scan(client, gate, person)
    pump.drain()
    # a scan with nothing holding the code: 30 days after the scan
    assert abs(people.get(code_id, consistent=True).expires_at - (clock.now() + retention.CODE_DAYS * DAY)) <= 5

    authority = health_authority("44")
    assert client.post("/v1/health-statuses", headers=authority, body=dump(
        {"id_number": person.id_number, "status": "close_contact"})).status_code == 201
    sync_local_code(client, guangdong, person, "yellow", "gd-ret-1")
    recorded = client.post("/v1/sync/health-records", headers=guangdong, body=dump({"province": "44", "records": [{
        "id_number": person.id_number, "record_id": "gd-ret-rec-1", "status": "suspected",
        "institution": "广州市第八人民医院", "issued_at": clock.now() - 60, "version": 1}]}))
    assert recorded.status_code == 200, recorded.json_body
    looked = client.post("/v1/sync/lookups", headers=guangdong, body=dump(
        {"id_numbers": [person.id_number], "purpose": "Arrival screening"}))
    assert looked.status_code == 200, looked.json_body
    reason = next(r for r in client.get("/v1/me/risk", headers=person.headers).json_body["reasons"]
                  if r["source"] == "medical_status")
    filed = client.post("/v1/corrections", headers=person.headers, body=dump(
        {"source": "medical_status", "reason_code": reason["code"], "description": "我不是密切接触者"}))
    assert filed.status_code == 201, filed.json_body
    pump.drain()

    now = clock.now()
    found = items_about(ref, code_id, filed.json_body["id"], "gd-ret-1")
    kinds = {kind_of(table, item) for table, items in found.items() for item in items}
    assert {"people", "scans", "trips", "visits", "medical:CURRENT", "medical:H", "medical:R", "localcodes:code",
            "localcodes:alias", "corrections:request", "corrections:open", "corrections:person", "audit:history",
            "audit:access"} <= kinds, kinds
    for table, items in found.items():
        for item in items:
            assert isinstance(item.get("expires_at"), int), (table, item)
            assert item["expires_at"] > now, (table, item)

    # the statuses' reasons end when their items expire: 180 days after they were set, so the code is held until
    # then and 30 days more, and a scan does not shorten that
    code = people.get(code_id, consistent=True)
    held = now + (retention.MEDICAL_DAYS + retention.CODE_DAYS) * DAY
    assert abs(code.expires_at - held) <= 120, (code.expires_at, held)
    scan(client, gate, person)
    assert people.get(code_id, consistent=True).expires_at == code.expires_at
    medical = {kind_of("medical", i): i["expires_at"] for i in found["medical"]}
    assert abs(medical["medical:CURRENT"] - (now + retention.MEDICAL_DAYS * DAY)) <= 120
    local = next(i for i in found["localcodes"] if i.get("sk") != "alias")
    assert local["expires_at"] == local["synced_at"] + retention.LOCAL_CODE_DAYS * DAY

    decided = client.post(f"/v1/corrections/{filed.json_body['id']}/decision", headers=authority,
                          body=dump({"decision": "approve", "reason": "核实无误", "period_days": 7}))
    assert decided.status_code == 200, decided.json_body
    after = items_about(filed.json_body["id"], ref)
    decisions = [i for i in after["audit"] if kind_of("audit", i) == "audit:correction"]
    assert decisions and all(i["expires_at"] > now for i in decisions)
    request = next(i for i in after["corrections"] if i["pk"] == filed.json_body["id"])
    assert request["expires_at"] >= now + retention.CORRECTION_DAYS * DAY


def test_a_code_nobody_used_for_thirty_days_expires_and_a_new_application_starts_afresh(
        client, citizen, guangdong, pump):
    # 40 days ago Guangdong's yellow code, valid 5 days, made the code yellow; nothing happened since, so both
    # expired 5 days ago (30 days after that validity)
    clock.shift(-40 * DAY)
    person = citizen(identities.in_province("44"))
    assert person.apply(current_area="445302").status_code == 201
    sync_local_code(client, guangdong, person, "yellow", "gd-ret-old", valid_until=clock.now() + 5 * DAY)
    pump.drain()
    code_id = pseudonyms.code_id(pseudonyms.person_ref(person.id_number))
    assert people.get(code_id, consistent=True).expires_at < time.time()
    clock.reset()

    deleted = expire()
    prefix = get_settings().table_prefix
    assert deleted[f"{prefix}-people"] >= 1 and deleted[f"{prefix}-localcodes"] >= 2
    assert people.get(code_id, consistent=True) is None and not items_about("gd-ret-old", tables=("localcodes",))
    person = citizen(person.id_number, person.name)
    gone = client.get("/v1/codes/me", headers=person.headers)
    assert gone.status_code == 404 and gone.json_body["error"]["code"] == "no_code"
    again = person.apply(current_area="445302")
    assert again.status_code == 201 and again.json_body["color"] == "green"
    assert again.json_body["code_id"] == code_id


def test_a_code_whose_source_expires_turns_green_on_the_sweepers_schedule(client, citizen, guangdong, app_module,
                                                                          pump):
    # Guangdong pushed a red local code 40 days ago, without a validity, and never again: the code item
    # expires 30 days after that sync, so its reason ends then too, and the sweeper is due at that moment
    clock.shift(-40 * DAY)
    person = citizen(identities.in_province("44"))
    assert person.apply(current_area="445302").status_code == 201
    sync_local_code(client, guangdong, person, "red", "gd-ret-red")
    pump.drain()
    code_id = pseudonyms.code_id(pseudonyms.person_ref(person.id_number))
    code = people.get(code_id, consistent=True)
    assert code.color == "red"
    synced = next(i for i in items_about("gd-ret-red")["localcodes"] if i.get("sk") != "alias")
    assert code.due_at == synced["expires_at"] == synced["synced_at"] + retention.LOCAL_CODE_DAYS * DAY
    clock.reset()

    expire()
    assert not items_about("gd-ret-red", tables=("localcodes",))
    person = citizen(person.id_number, person.name)
    mine = client.get("/v1/codes/me", headers=person.headers)
    assert mine.status_code == 200 and mine.json_body["color"] == "green" and mine.json_body["reasons"] == []
    gate = auth(client_token(client, Role.CHECKPOINT, area="445302"))
    assert scan(client, gate, person)["color"] == "green"
    assert code_id in people.due(days.today(code.due_at).isoformat(), clock.now())

    app_module.sweeper(scheduled_event(), None)
    swept = people.get(code_id, consistent=True)
    assert swept.color == "green" and swept.sources == {} and swept.due_at is None
    assert swept.version == code.version + 1
    assert abs(swept.expires_at - (clock.now() + retention.CODE_DAYS * DAY)) <= 5


def test_items_written_before_ttl_get_the_expiry_their_writes_give_them_and_a_backfill_resumes(
        client, citizen, guangdong, health_authority, pump, tmp_path):
    person = citizen(identities.in_province("44"))
    assert person.apply(current_area="445302").status_code == 201
    ref = pseudonyms.person_ref(person.id_number)
    assert client.post("/v1/health-statuses", headers=health_authority("44"), body=dump(
        {"id_number": person.id_number, "status": "under_observation"})).status_code == 201
    sync_local_code(client, guangdong, person, "yellow", "gd-ret-backfill")
    reason = next(r for r in client.get("/v1/me/risk", headers=person.headers).json_body["reasons"]
                  if r["source"] == "medical_status")
    filed = client.post("/v1/corrections", headers=person.headers, body=dump(
        {"source": "medical_status", "reason_code": reason["code"], "description": "观察期已满"}))
    assert filed.status_code == 201, filed.json_body
    pump.drain()
    tables = ("people", "medical", "localcodes", "corrections", "audit")
    written = {(table, item["pk"], item.get("sk")): item["expires_at"]
               for table, items in items_about(ref, pseudonyms.code_id(ref), filed.json_body["id"], "gd-ret-backfill",
                                               tables=tables).items() for item in items}
    assert {table for table, _, _ in written} == set(tables), written
    # as they were before issue 21: no TTL attribute on any of them
    for table, pk, sk in written:
        key = {"pk": pk, **({"sk": sk} if sk is not None else {})}
        dynamo.client().update_item(TableName=dynamo.table(table), Key=dynamo.to_item(key),
                                    UpdateExpression="REMOVE expires_at")

    state = tmp_path / "backfill.json"
    stopped = ops("retention", "backfill", "--state", str(state), "--segments", "2", "--max-pages", "1", ok=False)
    assert stopped.exit_code == 1 and "run the same command again to resume" in stopped.output
    assert json.loads(state.read_text())["progress"]          # where to resume
    ops("retention", "backfill", "--state", str(state), "--segments", "2")
    again = ops("retention", "backfill", "--state", str(tmp_path / "second.json"))   # nothing left to do
    assert json.loads((tmp_path / "second.json").read_text())["counts"] == dict.fromkeys(tables, 0), again.output

    now = clock.now()
    after = {(table, item["pk"], item.get("sk")): item.get("expires_at")
             for table, items in items_about(ref, pseudonyms.code_id(ref), filed.json_body["id"], "gd-ret-backfill",
                                             tables=tables).items() for item in items}
    assert set(after) == set(written)
    for key, expires_at in after.items():
        assert isinstance(expires_at, int), key
        timeless = key[0] == "localcodes" and key[2] == "alias" or key[0] == "corrections" and key[1].startswith(
            ("open#", "person#"))
        # what the writes set, from the item's own times; an item that keeps no time is kept from the backfill on
        assert abs(expires_at - written[key]) <= 120 or timeless and expires_at >= now, (key, expires_at, written[key])


def test_an_item_its_store_cannot_read_is_skipped_named_in_the_state_and_left_as_it_is(tmp_path):
    """One item of a shape no code reads any more must not stop a pass over every table, nor get a made-up expiry."""
    broken = {"pk": f"broken{time.time_ns()}", "color": 3}         # no times, a color that is no color
    dynamo.client().put_item(TableName=dynamo.table("people"), Item=dynamo.to_item(broken))
    try:
        state = tmp_path / "backfill.json"
        done = ops("retention", "backfill", "--state", str(state))
        assert "could not be read" in done.output and "can be removed" not in done.output
        saved = json.loads(state.read_text())
        assert {"pk": broken["pk"]} in saved["skipped"]["people"]
        assert all(segment["done"] for segment in saved["progress"]["people"].values())
        left = dynamo.client().get_item(TableName=dynamo.table("people"), Key=dynamo.to_item({"pk": broken["pk"]}),
                                        ConsistentRead=True)["Item"]
        assert "expires_at" not in left
    finally:
        dynamo.client().delete_item(TableName=dynamo.table("people"), Key=dynamo.to_item({"pk": broken["pk"]}))
