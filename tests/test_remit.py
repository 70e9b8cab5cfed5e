"""No one acts outside their remit, and every access to a person's data is in their access log (issue 15).

A Beijing authority marked a Shanghai resident confirmed; a Xinjiang authority then 'cleared' them and
lifted Beijing's status; a person marked red by one province re-applied with an area in another and had
that one lift it. None of that may happen any more.
"""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib import clock
from chalicelib.security.access import Role
from tests import people
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind, day  # noqa: F401 (autouse fixtures)
from tests.receiver import Receiver
from tests.refusals import assert_refused

SHANGHAI, BEIJING = "310101", "110101"


def resident_of(citizen: Any, area: str) -> Any:
    person = citizen(people.in_province(area[:2]))
    assert person.apply(current_area=area).status_code == 201
    return person


def set_status(client: Any, authority: dict[str, str], person: Any, status: str, **extra: Any) -> Any:
    return client.post("/v1/health-statuses", headers=authority,
                       body=dump({"id_number": person.id_number, "status": status, **extra}))


def color(client: Any, person: Any) -> str:
    return client.get("/v1/codes/me", headers=person.headers).json_body["color"]


def access_log(client: Any, person: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/me/access-log", headers=person.headers)
    assert response.status_code == 200, response.json_body
    return response.json_body["accesses"]


@pytest.fixture
def national(client: Any) -> dict[str, str]:
    return auth(client_token(client, Role.NATIONAL_AUTHORITY))


def test_an_authority_acts_on_people_of_its_province_or_says_why_and_the_person_sees_it(
        client, citizen, health_authority):
    shanghai_resident = resident_of(citizen, SHANGHAI)
    beijing = health_authority("11")
    refused = set_status(client, beijing, shanghai_resident, "confirmed")
    assert_refused(refused, 403, "basis_required")
    assert color(client, shanghai_resident) == "green"
    # the refusal tells Beijing that no tie is known: she sees that it asked
    [asked] = access_log(client, shanghai_resident)
    assert (asked["action"], asked["province"], asked["returned"], asked["basis"]) == (
        "medical_status_refused", "11", {"status": "confirmed"}, None)

    done = set_status(client, beijing, shanghai_resident, "confirmed",
                      basis={"kind": "diagnosed_here", "note": "PCR at Ditan Hospital"})
    assert done.status_code == 201, done.json_body
    assert done.json_body["basis"] == {"connection": None, "stated": "diagnosed_here", "note": "PCR at Ditan Hospital"}
    assert color(client, shanghai_resident) == "red"
    entry, _ = access_log(client, shanghai_resident)
    assert (entry["action"], entry["province"], entry["role"], entry["returned"]) == (
        "medical_status", "11", "health_authority", {"status": "confirmed"})
    assert entry["basis"]["stated"] == "diagnosed_here" and entry["basis"]["note"] == "PCR at Ditan Hospital"

    # Shanghai's own authority needs no stated basis: she declared an area there
    shanghai = set_status(client, health_authority("31"), shanghai_resident, "under_observation")
    assert shanghai.status_code == 201 and shanghai.json_body["basis"]["connection"] == "declared_area"


def test_a_status_is_lifted_only_by_the_province_that_set_it_or_a_national_authority(
        client, citizen, health_authority, national):
    person = resident_of(citizen, SHANGHAI)
    beijing, xinjiang = health_authority("11"), health_authority("65")
    assert set_status(client, beijing, person, "confirmed", basis={"kind": "diagnosed_here"}).status_code == 201
    cleared = set_status(client, xinjiang, person, "cleared", basis={"kind": "other", "note": "says she is fine"})
    assert cleared.status_code == 201 and cleared.json_body["issuer"] == "65"
    assert color(client, person) == "red"                    # Xinjiang lifted only its own (nothing)

    assert set_status(client, beijing, person, "recovered", basis={"kind": "treated_here"}).status_code == 201
    assert color(client, person) == "green"

    assert set_status(client, beijing, person, "suspected", basis={"kind": "diagnosed_here"}).status_code == 201
    assert set_status(client, health_authority("31"), person, "close_contact").status_code == 201
    assert color(client, person) == "red"
    lifted = set_status(client, national, person, "cleared")
    assert lifted.status_code == 201 and lifted.json_body["issuer"] == "national"
    assert lifted.json_body["basis"]["connection"] == "national"
    assert color(client, person) == "green"


def test_of_several_provinces_statuses_the_most_severe_holds(client, citizen, health_authority):
    person = resident_of(citizen, SHANGHAI)
    assert set_status(client, health_authority("31"), person, "under_observation").status_code == 201
    assert set_status(client, health_authority("11"), person, "close_contact",
                      basis={"kind": "traced_here"}).status_code == 201
    risk = client.get("/v1/me/risk", headers=person.headers).json_body
    assert risk["color"] == "red" and [(r["code"], r["ref"]) for r in risk["reasons"]] == [
        ("medical_close_contact", "11")]
    # Shanghai's later, milder status does not hide Beijing's
    assert set_status(client, health_authority("31"), person, "under_observation").status_code == 201
    assert color(client, person) == "red"


def test_a_stay_or_a_local_code_connects_a_person_to_a_province(client, citizen, health_authority):
    traveller = resident_of(citizen, SHANGHAI)
    trip = client.post("/v1/trips", headers=traveller.headers,
                       body=dump({"date": day(2), "from": SHANGHAI, "to": "440106", "mode": "car"}))
    assert trip.status_code == 201
    assert set_status(client, health_authority("44"), traveller, "close_contact").json_body["basis"][
        "connection"] == "stay"

    holder = resident_of(citizen, SHANGHAI)
    gansu = auth(client_token(client, Role.PROVINCE, province="62"))
    pushed = client.post("/v1/sync/local-codes", headers=gansu, body=dump({"province": "62", "records": [{
        "id_number": holder.id_number, "color": "green", "local_code_id": f"gs-{holder.id_number[-6:]}",
        "issued_at": clock.now() - 60, "updated_at": clock.now() - 60, "version": 1}]}))
    assert pushed.status_code == 200, pushed.json_body
    status = set_status(client, health_authority("62"), holder, "under_observation")
    assert status.status_code == 201 and status.json_body["basis"]["connection"] == "local_code"
    actions = [(a["action"], a["province"]) for a in access_log(client, holder)]
    assert actions == [("medical_status", "62"), ("local_code", "62")]     # newest first


def test_a_correction_is_reviewed_by_the_owner_of_what_it_corrects(client, citizen, health_authority):
    person = resident_of(citizen, SHANGHAI)
    assert set_status(client, health_authority("11"), person, "close_contact",
                      basis={"kind": "traced_here"}).status_code == 201
    # she re-applies declaring Guangzhou: Guangdong must not become the reviewer of Beijing's status
    assert person.apply(current_area="440106").status_code == 200     # an update of her code
    filed = client.post("/v1/corrections", headers=person.headers, body=dump({
        "source": "medical_status", "reason_code": "medical_close_contact",
        "description": "I was never near the case"}))
    assert filed.status_code == 201, filed.json_body
    assert filed.json_body["province"] == "11"
    correction = filed.json_body["id"]
    guangdong, beijing = health_authority("44"), health_authority("11")
    assert client.post(f"/v1/corrections/{correction}/decision", headers=guangdong,
                       body=dump({"decision": "approve", "reason": "ok"})).status_code == 404
    history = client.get(f"/v1/corrections/{correction}/history", headers=beijing)
    assert history.status_code == 200
    decided = client.post(f"/v1/corrections/{correction}/decision", headers=beijing,
                          body=dump({"decision": "approve", "reason": "核实无接触"}))
    assert decided.status_code == 200 and decided.json_body["color"] == "green"
    reading = [a for a in access_log(client, person) if a["action"] == "correction_history"]
    assert [(a["province"], a["ref"]) for a in reading] == [("11", correction)]


def test_a_correction_of_a_declaration_goes_to_the_province_declared(client, citizen, health_authority):
    person = citizen(people.in_province("51"))
    assert person.apply(current_area="440106", temperature=38.2).status_code == 201
    filed = client.post("/v1/corrections", headers=person.headers, body=dump({
        "source": "declaration", "reason_code": "declared_fever", "description": "I typed 38.2 for 36.2"}))
    assert filed.status_code == 201 and filed.json_body["province"] == "44"


def test_a_province_hears_of_a_person_only_while_it_has_a_basis(client, citizen, health_authority, pump):
    person = resident_of(citizen, SHANGHAI)
    pump.drain()        # her code's first color is out before Tianjin has any basis
    tianjin = auth(client_token(client, Role.PROVINCE, province="12"))
    receiver = Receiver().start()
    hook = client.post("/v1/webhooks", headers=tianjin, body=dump({
        "url": receiver.url, "event_types": ["person.color_changed"]})).json_body
    receiver.secrets.append(hook["secret"])
    looked = client.post("/v1/sync/lookups", headers=tianjin,
                         body=dump({"id_numbers": [person.id_number], "purpose": "arrival screening"}))
    assert looked.status_code == 200
    [entry] = access_log(client, person)
    assert entry["action"] == "lookup" and entry["basis"]["note"] == "arrival screening"
    assert entry["returned"]["color"] == "green" and entry["returned"]["has_national_code"] is True

    assert set_status(client, health_authority("31"), person, "under_observation").status_code == 201
    pump.drain()
    assert [d["body"]["data"]["color"] for d in receiver.unique().values()] == ["yellow"]

    clock.shift(31 * 86400)             # the look-up's basis has lapsed
    assert set_status(client, health_authority("31"), person, "cleared").status_code == 201
    pump.drain()
    assert len(receiver.unique()) == 1, "a province without a basis heard of the person"
    clock.reset()
    receiver.stop()
