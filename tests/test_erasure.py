"""'Erase my data': what no live purpose needs goes, what an active status or an open correction needs stays (and
the answer says until when), the erasure is recorded without personal data, and Guangdong, which holds the
person's local code, hears `person.erased` so it can erase its copy."""
from __future__ import annotations

import datetime as dt
import json

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.dependants import MAX_DEPENDANTS
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

    # the authority lifts the status: asked again, the erasure takes the statuses and their history too
    assert client.post("/v1/health-statuses", headers=authority, body=dump(
        {"id_number": person.id_number, "status": "cleared"})).status_code == 201
    again = client.post("/v1/me/erasure", headers=person.headers, body=dump({"confirm": True})).json_body
    assert "medical" not in {k["kind"] for k in again["kept"]}
    assert {e["kind"]: e["count"] for e in again["erased"]}["medical"] >= 3     # the status and its history
    assert medical.statuses(ref) == []


def elder(client, citizen, name: str):
    """A citizen of 78 (old enough to be a dependant), logged in, with a code."""
    born = days.today(clock.now()).replace(year=days.today(clock.now()).year - 78) - dt.timedelta(days=100)
    person = citizen(people.id_number(born=born), name)
    assert person.apply(current_area="440106").status_code == 201
    return person, born


def add_dependant(client, guardian, person, born, relationship: str):
    return client.post("/v1/me/dependants", headers=guardian.headers, body=dump(
        {"name": person.name, "id_number": person.id_number, "birth_date": born.isoformat(),
         "relationship": relationship}))


def linked(client, guardian, person, born, relationship: str) -> str:
    added = add_dependant(client, guardian, person, born, relationship)
    assert added.status_code == 201, added.json_body
    return added.json_body["dependant_id"]


def family_visitor(client, citizen, health_authority):
    """A grandmother who scanned a venue, printed a paper code, holds her elder sister as a dependant and has her
    son as a guardian; the son holds four children more (five: his most), the sister one guardian more (two:
    hers)."""
    from tests.test_family import child
    from tests.test_venues import county_of, register, token_of

    grandmother, her_born = elder(client, citizen, "王秀英")
    sister, sister_born = elder(client, citizen, "王秀兰")
    son, nephew = citizen(), citizen()
    linked(client, son, grandmother, her_born, "parent")
    for _ in range(MAX_DEPENDANTS - 1):
        number, born = child()
        assert client.post("/v1/me/dependants", headers=son.headers, body=dump(
            {"name": "王小宝", "id_number": number, "birth_date": born.isoformat(),
             "relationship": "child"})).status_code == 201
    linked(client, grandmother, sister, sister_born, "other_relative")
    linked(client, nephew, sister, sister_born, "other_relative")
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    visited = client.post("/v1/visits", headers=grandmother.headers, body=dump({"venue_token": token_of(venue)}))
    assert visited.status_code == 201, visited.json_body
    paper = client.post("/v1/paper-codes", headers=grandmother.headers, body=dump({}))
    assert paper.status_code == 201, paper.json_body
    return {"grandmother": grandmother, "sister": (sister, sister_born), "son": son, "tracer": tracer,
            "venue": venue, "paper": paper.json_body, "visited_at": visited.json_body["visited_at"]}


def test_an_erasure_reaches_venue_visits_paper_codes_and_family_links_on_both_sides(client, citizen,
                                                                                   health_authority, checkpoint):
    from tests.test_paper_codes import revocation_list

    family = family_visitor(client, citizen, health_authority)
    grandmother, son, tracer, paper = family["grandmother"], family["son"], family["tracer"], family["paper"]
    sister, sister_born = family["sister"]
    at, venue_id = family["visited_at"], family["venue"]["venue_id"]
    window = f"/v1/venues/{venue_id}/visits?from={at - 600}&to={at + 600}"
    assert len(client.get(window, headers=tracer).json_body["list"]) == 1
    before = revocation_list(client)
    ref = pseudonyms.person_ref(grandmother.id_number)
    tables = ("venues", "papercodes", "guardians")
    assert set(items_about(ref, pseudonyms.code_id(ref), tables=tables)) == set(tables)
    # both are full: the son holds five dependants, the sister has two guardians
    assert add_dependant(client, son, *elder(client, citizen, "李桂英"), "parent_in_law").status_code == 409
    assert add_dependant(client, citizen(), sister, sister_born, "other_relative").status_code == 409

    erased = client.post("/v1/me/erasure", headers=grandmother.headers, body=dump({"confirm": True}))
    assert erased.status_code == 200, erased.json_body
    counts = {e["kind"]: e["count"] for e in erased.json_body["erased"]}
    assert (counts["venue_visits"], counts["paper_codes"], counts["dependants"], counts["guardians"]) == (1, 1, 1, 1)
    kept = {k["kind"]: k for k in erased.json_body["kept"]}
    assert set(kept) == {"paper_code_revocations", "dependants_data"}
    assert kept["paper_code_revocations"]["until"] > paper["expires_at"]

    # the tracer's list no longer names her
    assert client.get(window, headers=tracer).json_body["list"] == []
    # the paper code was revoked first: the signed list names it (a number, no one's name), and it verifies no more
    listed = revocation_list(client, before["sequence"])
    assert paper["number"] in {r["number"] for r in listed["revoked"]}
    assert grandmother.name not in json.dumps(listed, ensure_ascii=False)
    refused = client.post("/v1/verifications", headers=checkpoint,
                          body=dump({"token": paper["token"], "checkpoint_id": "community-1"})).json_body
    assert refused["valid"] is False
    # the links are gone on both sides, and the counts let new links be added
    assert len(client.get("/v1/me/dependants", headers=son.headers).json_body["dependants"]) == MAX_DEPENDANTS - 1
    sister = citizen(sister.id_number, sister.name)
    [guardian] = client.get("/v1/me/guardians", headers=sister.headers).json_body["guardians"]
    assert guardian["guardian_id"] != pseudonyms.code_id(pseudonyms.person_ref(grandmother.id_number))
    assert add_dependant(client, son, *elder(client, citizen, "李桂英"), "parent_in_law").status_code == 201
    assert add_dependant(client, citizen(), sister, sister_born, "other_relative").status_code == 201
    # nothing in those three tables names her any more (a check by scanning, as no code path may)
    assert items_about(ref, pseudonyms.code_id(ref), tables=tables) == {}
    # her sister's own code and data stay: they are hers
    assert client.get("/v1/codes/me", headers=sister.headers).status_code == 200

    mine = {k["kind"]: k["count"] for k in client.get("/v1/me/data", headers=grandmother.headers).json_body["kinds"]}
    assert all(count == 0 for count in mine.values()), mine
