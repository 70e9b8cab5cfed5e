"""'Erase my data': what no live purpose needs goes, what an active status or an open correction needs stays (and
the answer says until when), the erasure is recorded without personal data, and Guangdong, which holds the
person's local code, hears `person.erased` so it can erase its copy."""
from __future__ import annotations

import datetime as dt
import json

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.security import pseudonyms
from chalicelib.security.access import Role
from chalicelib.store import audit, medical
from tests import people
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver
from tests.test_retention import items_about, scan, sync_local_code


def traveller_with_data(client, citizen, guangdong, pump):
    person = citizen(people.in_province("44"))
    assert person.apply(current_area="440106").status_code == 201
    day = days.today(clock.now()) - dt.timedelta(days=2)
    assert client.post("/v1/trips", headers=person.headers, body=dump({
        "date": day.isoformat(), "origin": "510104", "destination": "440106", "mode": "car"})).status_code == 201
    scan(client, auth(client_token(client, Role.CHECKPOINT, area="440106")), person)
    sync_local_code(client, guangdong, person, "green", f"gd-era-{person.id_number[-6:]}")
    pump.drain()
    return person


def test_a_citizen_erases_everything_and_guangdong_hears_of_it(client, citizen, pump):
    guangdong = auth(client_token(client, Role.PROVINCE, province="44"))
    receiver = Receiver().start()
    try:
        hook = client.post("/v1/webhooks", headers=guangdong, body=dump(
            {"url": receiver.url, "event_types": ["person.erased"]})).json_body
        receiver.secrets.append(hook["secret"])
        person = traveller_with_data(client, citizen, guangdong, pump)
        ref = pseudonyms.person_ref(person.id_number)
        code_id = pseudonyms.code_id(ref)
        local_code_id = f"gd-era-{person.id_number[-6:]}"
        before = items_about(ref, code_id, local_code_id)
        assert {"people", "scans", "trips", "visits", "localcodes", "audit"} <= set(before)

        erased = client.post("/v1/me/erasure", headers=person.headers, body=dump({"confirm": True}))
        assert erased.status_code == 200, erased.json_body
        answer = erased.json_body
        counts = {e["kind"]: e["count"] for e in answer["erased"]}
        assert counts["code"] == 1 and counts["scans"] == 1 and counts["trips"] == 1 and counts["stays"] == 2
        assert counts["local_codes"] == 2 and counts["audit"] >= 2      # the code's history, Guangdong's sync
        assert answer["kept"] == [] and answer["provinces_told"] == ["44"]

        # nothing of theirs is left but operational copies that expire on their own within 30 days: the outbox's
        # events (this erasure's among them) and deliveries, fan-out units, rate-limit counters, idempotency records
        left = items_about(ref, code_id, local_code_id)
        assert set(left) <= {"events", "deliveries", "work", "catchup", "ratelimits", "idempotency"}, left
        assert all(i["expires_at"] <= clock.now() + 30 * days.DAY for items in left.values() for i in items)
        assert client.get("/v1/codes/me", headers=person.headers).json_body["error"]["code"] == "no_code"

        # the record names no one: a pseudonymous reference, the time and the counts
        [record] = audit.erasures(answer["reference"])
        assert record["erased"] == counts and record["at"] == answer["erased_at"]
        text = json.dumps(record, default=str)
        assert ref not in text and code_id not in text and person.id_number not in text

        pump.drain()
        told = [d["body"] for d in receiver.unique().values() if d["body"]["type"] == "person.erased"]
        assert [b["data"]["subject_id"] for b in told] == [pseudonyms.subject_for("44", ref)]
        assert told[0]["data"]["local_code_id"] == local_code_id and "audience" not in told[0]["data"]

        # asking again erases nothing more, and is recorded again
        again = client.post("/v1/me/erasure", headers=person.headers, body=dump({"confirm": True})).json_body
        assert all(e["count"] == 0 for e in again["erased"]) and again["reference"] == answer["reference"]
    finally:
        receiver.stop()


def test_an_active_status_and_an_open_correction_are_kept_and_say_until_when(client, citizen, health_authority,
                                                                            pump):
    guangdong = auth(client_token(client, Role.PROVINCE, province="44"))
    person = traveller_with_data(client, citizen, guangdong, pump)
    ref = pseudonyms.person_ref(person.id_number)
    authority = health_authority("44")
    assert client.post("/v1/health-statuses", headers=authority, body=dump(
        {"id_number": person.id_number, "status": "close_contact"})).status_code == 201
    reason = next(r for r in client.get("/v1/me/risk", headers=person.headers).json_body["reasons"]
                  if r["source"] == "medical_status")
    filed = client.post("/v1/corrections", headers=person.headers, body=dump(
        {"source": "medical_status", "reason_code": reason["code"], "description": "我不是密切接触者"}))
    assert filed.status_code == 201, filed.json_body

    answer = client.post("/v1/me/erasure", headers=person.headers, body=dump({"confirm": True})).json_body
    kept = {k["kind"]: k for k in answer["kept"]}
    assert set(kept) == {"medical", "corrections", "code"}
    assert kept["medical"]["why"] == "active_medical_status" and kept["corrections"]["why"] == "open_correction"
    assert all(k["until"] > clock.now() for k in kept.values())
    counts = {e["kind"]: e["count"] for e in answer["erased"]}
    assert counts["scans"] == 1 and counts["trips"] == 1 and "medical" not in counts and "code" not in counts
    # the status still holds: the code is red, and the health authority's status is there
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "red"
    assert [s.status.value for s in medical.statuses(ref)] == ["close_contact"]
    assert client.get("/v1/me/scans", headers=person.headers).json_body["scans"] == []
