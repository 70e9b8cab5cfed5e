"""Citizens with other identity documents (docs/identity.md) log in, apply, are verified, and are matched to
co-passenger exposures like resident-ID holders; bad documents are refused field by field."""
from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.domain.documents import DocumentType, parse
from chalicelib.security import pseudonyms
from chalicelib.security.access import Role
from tests import people
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind, day  # noqa: F401 (autouse fixtures)
from tests.refusals import assert_refused, fields
from tests.test_risk_scenarios import drain, flight, publish


def log_in(client: Any, name: str, id_number: str, **document: Any) -> Any:
    return client.post("/v1/sessions", headers={"Content-Type": "application/json"},
                       body=dump({"self_asserted": {"name": name, "id_number": id_number, "phone": people.phone(),
                                                    **document}}))


def logged_in(client: Any, name: str, id_number: str, **document: Any) -> dict[str, Any]:
    response = log_in(client, name, id_number, **document)
    assert response.status_code == 201, response.json_body
    return response.json_body


def apply(client: Any, token: str, area: str = "440106") -> dict[str, Any]:
    body = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
            "current_area": area}
    response = client.post("/v1/codes", headers=auth(token), body=dump(body))
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_a_hong_kong_resident_with_a_travel_permit_applies_and_is_verified_at_a_checkpoint(client, checkpoint):
    permit = people.hk_macao_permit("H", issues=1)
    session = logged_in(client, "陈大文", permit, document_type="hk_macao_travel_permit")
    assert session["document_type"] == "hk_macao_travel_permit"
    assert session["name_masked"] == "陈*文" and session["id_last4"] == permit[5:9]

    code = apply(client, session["access_token"])
    assert code["color"] == "green" and code["id_last4"] == permit[5:9]
    qr = client.get("/v1/codes/me/qr?format=text", headers=auth(session["access_token"])).json_body["token"]
    verified = client.post("/v1/verifications", headers=checkpoint,
                           body=dump({"token": qr, "checkpoint_id": "lo-wu-1", "temperature": 36.4})).json_body
    assert verified["valid"] is True and verified["color"] == "green"
    assert verified["name_masked"] == "陈*文" and verified["id_last4"] == permit[5:9]

    # a renewed permit (issue count 02) is the same holder: the same code, not a second one
    renewed = logged_in(client, "陈大文", permit[:9] + "02", document_type="hk_macao_travel_permit")
    mine = client.get("/v1/codes/me", headers=auth(renewed["access_token"])).json_body
    assert mine["code_id"] == code["code_id"]


def test_two_documents_of_one_person_are_two_codes_and_a_resident_id_keeps_its_reference(client):
    """No document names another, so the platform cannot link them (docs/identity.md)."""
    passport = people.passport()
    by_passport = logged_in(client, "Anna Schmidt", passport, document_type="passport", nationality="DEU")
    by_card = logged_in(client, "Anna Schmidt", people.permanent_resident_2023(),
                        document_type="foreign_permanent_resident")
    assert by_card["document_type"] == "foreign_permanent_resident"
    first, second = apply(client, by_passport["access_token"]), apply(client, by_card["access_token"])
    assert first["code_id"] != second["code_id"]
    assert first["code_id"] == pseudonyms.code_id(pseudonyms.document_ref(parse(DocumentType.PASSPORT, passport,
                                                                                "DEU")))
    id_number = people.id_number()
    resident = logged_in(client, people.name(), id_number)
    assert resident["document_type"] == "resident_id"
    assert apply(client, resident["access_token"])["code_id"] == pseudonyms.code_id(pseudonyms.person_ref(id_number))


def test_a_passport_holder_on_a_flight_with_an_inbound_case_turns_yellow(client, health_authority, pump):
    traveller = logged_in(client, "Kim Minjun", people.passport(), document_type="passport", nationality="KOR")
    apply(client, traveller["access_token"], area="310101")
    number = flight()
    trip = client.post("/v1/trips", headers=auth(traveller["access_token"]),
                       body=dump({"date": day(), "mode": "flight", "number": number, "from": "110101",
                                  "to": "310101", "seat": "30C"}))
    assert trip.status_code == 201, trip.json_body
    publish(client, health_authority("31"), mode="flight", number=number, inbound=True, rows={"from": 1, "to": 5})
    drain(pump)
    code = client.get("/v1/codes/me", headers=auth(traveller["access_token"])).json_body
    assert code["color"] == "yellow" and [r["code"] for r in code["reasons"]] == ["co_passenger"]
    # the public co-passenger query answers for the same flight whoever asks
    answer = client.get(f"/v1/exposures?number={number}&date={day()}").json_body
    assert answer["affected"] is True and answer["exposures"][0]["inbound"] is True


def test_bad_documents_are_refused_with_the_field_that_is_wrong(client):
    cases = [
        ({"document_type": "passport"}, "E12345678", "self_asserted.nationality"),
        ({"document_type": "passport", "nationality": "XYZ"}, "E12345678", "self_asserted.nationality"),
        ({"document_type": "hk_macao_travel_permit"}, "K1234567800", "self_asserted.id_number"),
        ({"document_type": "taiwan_travel_permit", "nationality": "TWN"}, "01234567", "self_asserted.nationality"),
        ({"document_type": "hmt_residence_permit"}, people.with_wrong_check_digit(people.residence_permit()),
         "self_asserted.id_number"),
        ({"document_type": "foreign_permanent_resident"}, "ABC310076050117", "self_asserted.id_number"),
        ({"document_type": "driving_licence"}, "E12345678", "self_asserted.document_type"),
    ]
    for document, number, field in cases:
        error = assert_refused(log_in(client, "Anna Schmidt", number, **document), 422, "validation_failed")
        assert fields(error) == {field}, (document, error)
        assert number not in str(error)   # a refusal does not repeat the number


def test_a_passport_holder_gets_a_status_and_a_test_result_named_by_the_passport(client, health_authority, pump):
    number = people.passport()
    traveller = logged_in(client, "Anna Schmidt", number, document_type="passport", nationality="DEU")
    headers = auth(traveller["access_token"])
    apply(client, traveller["access_token"], area="310101")
    passport = {"document_type": "passport", "id_number": number, "nationality": "DEU"}
    # Shanghai's authority: she declared an area there
    marked = client.post("/v1/health-statuses", headers=health_authority("31"),
                         body=dump({**passport, "status": "close_contact"}))
    assert marked.status_code == 201 and marked.json_body["id_last4"] == number[-4:], marked.json_body
    # the same number under another nationality is another person: nobody Shanghai knows
    other = client.post("/v1/health-statuses", headers=health_authority("31"),
                        body=dump({**passport, "nationality": "AUT", "status": "confirmed"}))
    assert other.status_code == 403 and other.json_body["error"]["code"] == "basis_required"
    pump.drain()
    code = client.get("/v1/codes/me", headers=headers).json_body
    assert code["color"] == "red" and [r["source"] for r in code["reasons"]] == ["medical_status"]

    # a Shanghai lab tests her on arrival
    lab = auth(client_token(client, Role.LAB, province="31"))
    sample = clock.now() - 3600
    pushed = client.post("/v1/sync/test-results", headers=lab, body=dump({"province": "31", "records": [{
        **passport, "record_id": "pvg-arrival-1", "sample_time": sample, "result_time": sample + 1800,
        "result": "negative", "test_type": "pcr", "institution": {"name": "浦东机场检测点", "county": "310115"},
        "version": 1}]}))
    assert pushed.status_code == 200 and pushed.json_body["written"] == 1, pushed.json_body
    pump.drain()
    tests = client.get("/v1/me/tests", headers=headers).json_body["tests"]
    assert [t["record_id"] for t in tests] == ["pvg-arrival-1"]
    # Shanghai's province system looks her up by her passport: the look-up is in her access log
    shanghai = auth(client_token(client, Role.PROVINCE, province="31"))
    looked = client.post("/v1/sync/lookups", headers=shanghai, body=dump(
        {"people": [passport, {**passport, "nationality": "AUT"}], "purpose": "入境人员健康核验"}))
    assert looked.status_code == 200, looked.json_body
    found, stranger = looked.json_body["results"]
    assert (found["index"], found["id_last4"], found["color"], found["has_national_code"]) == (
        0, number[-4:], "red", True)
    assert (stranger["id_last4"], stranger["color"], stranger["has_national_code"]) == (number[-4:], "green", False)
    assert found["subject_id"] != stranger["subject_id"]
    seen = client.get("/v1/me/lookups", headers=headers).json_body["lookups"]
    assert [(s["province"], s["lookup_id"]) for s in seen] == [("31", looked.json_body["lookup_id"])]
    # one list or the other, never both nor neither
    for body in ({"people": [passport], "id_numbers": [people.in_province("31")]}, {}):
        asked = client.post("/v1/sync/lookups", headers=shanghai, body=dump({**body, "purpose": "入境人员健康核验"}))
        error = assert_refused(asked, 422, "validation_failed")
        assert fields(error) == {"people"}, error
    # a passport without its nationality names no one: refused on the field
    refused = client.post("/v1/health-statuses", headers=health_authority("31"),
                          body=dump({"document_type": "passport", "id_number": number, "status": "confirmed"}))
    assert refused.status_code == 422 and "nationality" in fields(refused.json_body["error"]), refused.json_body
