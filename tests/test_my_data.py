"""'What do you still have about me?': a citizen sees where their code was scanned, a summary of everything kept
about them with when it expires, and an export of all of it."""
from __future__ import annotations

import datetime as dt
import json

from chalicelib import clock
from chalicelib.domain import days, retention
from chalicelib.security import pseudonyms
from chalicelib.security.access import Role
from chalicelib.store import dynamo
from tests import people
from tests.conftest import auth, client_token, dump


def scan_at(client, gate, person, checkpoint_id: str) -> dict:
    verified = client.post("/v1/verifications", headers=gate,
                           body=dump({"token": person.qr_token(), "checkpoint_id": checkpoint_id}))
    assert verified.status_code == 200, verified.json_body
    return verified.json_body


def test_a_traveller_sees_where_their_code_was_scanned_and_everything_kept_about_them(client, citizen, pump):
    traveller, neighbour = citizen(people.in_province("44")), citizen(people.in_province("44"))
    assert traveller.apply(current_area="440106").status_code == 201
    assert neighbour.apply(current_area="440106").status_code == 201
    day = days.today(clock.now()) - dt.timedelta(days=3)
    assert client.post("/v1/trips", headers=traveller.headers, body=dump({
        "date": day.isoformat(), "origin": "510104", "destination": "440106", "mode": "car"})).status_code == 201
    guangzhou = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    chengdu = auth(client_token(client, Role.CHECKPOINT, area="510104"))
    scan_at(client, chengdu, traveller, "chengdu-east-gate")
    clock.shift(60)
    # the color the scan showed, whatever other tests of the session made of these areas' levels
    shown = scan_at(client, guangzhou, traveller, "guangzhou-south-gate")["color"]
    scan_at(client, guangzhou, neighbour, "guangzhou-south-gate")
    pump.drain()

    first = client.get("/v1/me/scans?limit=1", headers=traveller.headers)
    assert first.status_code == 200, first.json_body
    [newest] = first.json_body["scans"]
    assert (newest["checkpoint_id"], newest["area"], newest["color"], newest["offline"]) == (
        "guangzhou-south-gate", "440106", shown, False)
    assert newest["area_name"] and newest["expires_at"] == newest["at"] + retention.CODE_DAYS * retention.DAY
    second = client.get(f"/v1/me/scans?limit=1&cursor={first.json_body['next_cursor']}", headers=traveller.headers)
    [older] = second.json_body["scans"]
    assert older["checkpoint_id"] == "chengdu-east-gate" and older["area"] == "510104" and older["at"] < newest["at"]
    # a cursor is the traveller's own: the neighbour cannot page through it
    theirs = client.get(f"/v1/me/scans?cursor={first.json_body['next_cursor']}", headers=neighbour.headers)
    assert theirs.status_code == 422 and theirs.json_body["error"]["details"][0]["field"] == "cursor"
    assert [s["checkpoint_id"] for s in client.get("/v1/me/scans", headers=neighbour.headers).json_body["scans"]] \
        == ["guangzhou-south-gate"]

    summary = client.get("/v1/me/data", headers=traveller.headers)
    assert summary.status_code == 200, summary.json_body
    kinds = {k["kind"]: k for k in summary.json_body["kinds"]}
    assert {kind: kinds[kind]["count"] for kind in ("code", "scans", "trips", "stays", "medical_statuses")} == {
        "code": 1, "scans": 2, "trips": 1, "stays": 2, "medical_statuses": 0}
    assert kinds["code_history"]["count"] >= 1
    assert kinds["scans"]["oldest"] == older["at"]
    assert kinds["scans"]["next_expires_at"] == older["expires_at"]
    assert kinds["scans"]["expires_at"] == newest["expires_at"]
    assert kinds["medical_statuses"]["oldest"] is None and kinds["medical_statuses"]["expires_at"] is None
    assert all(k["expires_at"] > clock.now() for k in kinds.values() if k["count"])

    export = client.get("/v1/me/data/export", headers=traveller.headers)
    assert export.status_code == 200, export.json_body
    kept = export.json_body["kinds"]
    assert [s["checkpoint_id"] for s in kept["scans"]] == ["chengdu-east-gate", "guangzhou-south-gate"]
    assert kept["trips"][0]["from"] == "510104" and kept["code"][0]["declaration"]["current_area"] == "440106"
    assert all(item["expires_at"] for items in kept.values() for item in items)
    text = json.dumps(export.json_body, ensure_ascii=False)
    # nothing of the neighbour's, and none of the tables' keys
    assert pseudonyms.person_ref(neighbour.id_number) not in text
    assert all("pk" not in item and "sk" not in item for items in kept.values() for item in items)
    assert traveller.id_number not in text


def test_an_offline_scan_is_shown_as_offline(client, citizen):
    # issue 17's offline scans mark their row `offline`; this is the row as it will be uploaded
    person = citizen()
    assert person.apply().status_code == 201
    code_id = pseudonyms.code_id(pseudonyms.person_ref(person.id_number))
    at = clock.now() - 3600
    dynamo.put("scans", {"pk": code_id, "sk": f"{days.iso(at)}#offline-1", "scan_id": "offline-1", "at": at,
                         "checkpoint_id": "bus-7", "client_id": "cp_test", "area": "440106", "temperature": None,
                         "fever": False, "issuer": "national", "scanned_at": at, "color": "green",
                         "expires_at": at + retention.CODE_DAYS * retention.DAY, "offline": True})
    [scan] = client.get("/v1/me/scans", headers=person.headers).json_body["scans"]
    assert scan["offline"] is True and scan["checkpoint_id"] == "bus-7"


def test_venue_visits_paper_codes_and_family_links_are_listed_with_their_expiry(client, citizen, health_authority):
    from tests.test_erasure import family_visitor

    family = family_visitor(client, citizen, health_authority)
    grandmother, paper, at = family["grandmother"], family["paper"], family["visited_at"]
    summary = client.get("/v1/me/data", headers=grandmother.headers)
    assert summary.status_code == 200, summary.json_body
    kinds = {k["kind"]: k for k in summary.json_body["kinds"]}
    assert {kind: kinds[kind]["count"] for kind in ("venue_visits", "paper_codes", "dependants", "guardians")} == {
        "venue_visits": 1, "paper_codes": 1, "dependants": 1, "guardians": 1}
    assert kinds["venue_visits"]["oldest"] == at and kinds["venue_visits"]["expires_at"] == at + 30 * days.DAY
    assert kinds["paper_codes"]["oldest"] == paper["issued_at"]
    assert kinds["paper_codes"]["expires_at"] == paper["expires_at"]
    # an active link lasts while the guardianship does: no expiry
    assert kinds["dependants"]["expires_at"] is None and kinds["guardians"]["oldest"] is not None

    kept = client.get("/v1/me/data/export", headers=grandmother.headers).json_body["kinds"]
    [visit] = kept["venue_visits"]
    assert visit["venue_id"] == family["venue"]["venue_id"] and visit["at"] == at and "person" not in visit
    [printed] = kept["paper_codes"]
    assert printed["number"] == paper["number"] and printed["status"] == "active"
    [dependant] = kept["dependants"]
    assert dependant["relationship"] == "other_relative" and "dependant" not in dependant
    [guardian] = kept["guardians"]
    assert guardian["relationship"] == "parent" and guardian["status"] == "active" and "guardian" not in guardian
    text = json.dumps(kept, ensure_ascii=False)
    assert pseudonyms.person_ref(family["son"].id_number) not in text
    assert pseudonyms.person_ref(family["sister"][0].id_number) not in text
