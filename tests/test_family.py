"""Family members (docs/identity.md#family-members): a guardian adds a child and a grandparent, applies and shows
a QR for each; the grandparent logs in later, sees everything the guardian did, and takes the code back."""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.domain.dependants import MAX_DEPENDANTS, Relationship
from chalicelib.domain.documents import DocumentType, parse
from chalicelib.domain.names import mask_name
from chalicelib.security import pseudonyms
from chalicelib.security.access import Principal, Role
from chalicelib.services import guardians
from chalicelib.store import guardians as store
from tests import people
from tests.conftest import dump
from tests.refusals import assert_refused, fields

DECLARATION = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
               "current_area": "110101"}


def years_ago(years: int, extra_days: int = 0) -> dt.date:
    today = days.today(clock.now())
    return today.replace(year=today.year - years) - dt.timedelta(days=extra_days)


def child() -> tuple[str, dt.date]:
    born = years_ago(6, 30)
    return people.id_number(born=born), born


def elder() -> tuple[str, dt.date]:
    born = years_ago(78, 100)
    return people.id_number(born=born), born


def add(client: Any, guardian: Any, number: str, born: dt.date, relationship: str, name: str, **document: Any) -> Any:
    return client.post("/v1/me/dependants", headers=guardian.headers, body=dump(
        {"name": name, "id_number": number, "birth_date": born.isoformat(), "relationship": relationship,
         **document}))


def added(client: Any, guardian: Any, number: str, born: dt.date, relationship: str, name: str = "王小宝",
          **document: Any) -> dict[str, Any]:
    response = add(client, guardian, number, born, relationship, name, **document)
    assert response.status_code == 201, response.json_body
    return response.json_body


def acting(guardian: Any, dependant_id: str) -> dict[str, str]:
    return {**guardian.headers, "X-Acting-For": dependant_id}


def test_a_guardian_adds_a_child_and_a_grandparent_applies_for_both_and_shows_each_qr(client, citizen, checkpoint):
    grandson = citizen()
    child_number, child_born = child()
    elder_number, elder_born = elder()
    kid = added(client, grandson, child_number, child_born, "child", name="王小宝")
    grandma = added(client, grandson, elder_number, elder_born, "grandparent", name="李秀英")
    assert (kid["group"], grandma["group"]) == ("child", "elderly")
    assert (kid["name_masked"], kid["id_last4"]) == ("王*宝", child_number[-4:])
    assert grandma["name_masked"] == "李*英" and grandma["document_type"] == "resident_id"
    listed = client.get("/v1/me/dependants", headers=grandson.headers).json_body["dependants"]
    assert {d["dependant_id"] for d in listed} == {kid["dependant_id"], grandma["dependant_id"]}

    for dependant, name in ((kid, "王*宝"), (grandma, "李*英")):
        applied = client.post("/v1/codes", headers=acting(grandson, dependant["dependant_id"]), body=dump(DECLARATION))
        assert applied.status_code == 201, applied.json_body
        assert applied.json_body["code_id"] == dependant["dependant_id"] and applied.json_body["name_masked"] == name
        qr = client.get("/v1/codes/me/qr?format=text", headers=acting(grandson, dependant["dependant_id"]))
        assert qr.status_code == 200 and qr.json_body["name_masked"] == name
        # a checkpoint sees an ordinary code: the dependant's own
        verified = client.post("/v1/verifications", headers=checkpoint, body=dump(
            {"token": qr.json_body["token"], "checkpoint_id": "gate-1"})).json_body
        assert verified["valid"] is True and verified["name_masked"] == name and verified["color"] == "green"
    trip = client.post("/v1/trips", headers=acting(grandson, grandma["dependant_id"]), body=dump(
        {"date": days.today(clock.now()).isoformat(), "from": "110101", "to": "310101", "mode": "car"}))
    assert trip.status_code == 201, trip.json_body
    # the guardian's own code is untouched: they never applied
    assert_refused(client.get("/v1/codes/me", headers=grandson.headers), 404, "no_code")
    # and the guardian's own QR PNG/SVG route works for a dependant like any other
    svg = client.get("/v1/codes/me/qr?format=svg", headers=acting(grandson, kid["dependant_id"]))
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")


def test_the_grandparent_logs_in_later_sees_what_the_guardian_did_and_takes_the_code_back(client, citizen):
    grandson = citizen()
    elder_number, elder_born = elder()
    grandma = added(client, grandson, elder_number, elder_born, "grandparent", name="李秀英")
    applied = client.post("/v1/codes", headers=acting(grandson, grandma["dependant_id"]), body=dump(DECLARATION))
    assert applied.status_code == 201, applied.json_body
    assert client.get("/v1/codes/me/qr", headers=acting(grandson, grandma["dependant_id"])).status_code == 200

    herself = citizen(id_number=elder_number, name="李秀英")
    mine = client.get("/v1/codes/me", headers=herself.headers).json_body
    assert mine["code_id"] == grandma["dependant_id"]          # the code the guardian applied for is hers
    log = client.get("/v1/me/access-log", headers=herself.headers).json_body["accesses"]
    acts = [(e["action"], e["returned"].get("operation")) for e in log]
    assert acts == [("guardian_act", "GET /v1/codes/me/qr"), ("guardian_act", "POST /v1/codes"),
                    ("guardian_added", None)]
    assert {e["role"] for e in log} == {"guardian"}
    assert {e["returned"]["guardian_name_masked"] for e in log} == {mask_name(grandson.name)}
    [held_by] = client.get("/v1/me/guardians", headers=herself.headers).json_body["guardians"]
    assert held_by["status"] == "active" and held_by["relationship"] == "grandparent"
    assert {e["client_id"] for e in log} == {held_by["guardian_id"]}

    taken = client.delete(f"/v1/me/guardians/{held_by['guardian_id']}", headers=herself.headers)
    assert taken.status_code == 200 and taken.json_body["status"] == "removed"
    assert_refused(client.get("/v1/codes/me", headers=acting(grandson, grandma["dependant_id"])), 404,
                   "unknown_dependant")
    assert client.get("/v1/me/dependants", headers=grandson.headers).json_body["dependants"] == []
    assert_refused(add(client, grandson, elder_number, elder_born, "grandparent", "李秀英"), 409, "already_linked")
    assert_refused(client.delete(f"/v1/me/guardians/{held_by['guardian_id']}", headers=herself.headers), 404,
                   "unknown_guardian")
    # her code goes on as her own
    assert client.get("/v1/codes/me/qr", headers=herself.headers).status_code == 200


def test_a_dependant_has_at_most_two_guardians_even_when_three_add_them_at_once(client, citizen):
    number, born = elder()
    document = parse(DocumentType.RESIDENT_ID, number)
    three = [Principal(Role.CITIZEN, subject=f"{i:032x}", name_masked="张*", id_last4="0000") for i in range(3)]
    outcomes: list[str] = []

    def try_add(guardian: Principal) -> None:
        try:
            guardians.add(guardian, document, "赵桂兰", Relationship.PARENT, born)
            outcomes.append("added")
        except Exception as exc:  # noqa: BLE001 (the refusal is the outcome under test)
            outcomes.append(getattr(exc, "code", type(exc).__name__))

    threads = [threading.Thread(target=try_add, args=(g,)) for g in three]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "added", "too_many_guardians"]
    assert len([g for g in store.guardians(pseudonyms.document_ref(document)) if g.status == "active"]) == 2
    # one of the two leaves: a third may join
    guardian = citizen()
    first = next(g for g in three if store.link(g.subject, pseudonyms.code_id(pseudonyms.document_ref(document))))
    guardians.remove(first, pseudonyms.code_id(pseudonyms.document_ref(document)))
    added(client, guardian, number, born, "parent", name="赵桂兰")


def test_a_guardian_holds_at_most_five_dependants(client, citizen):
    guardian = citizen()
    for _ in range(MAX_DEPENDANTS):
        added(client, guardian, *child(), "child")
    assert_refused(add(client, guardian, *child(), "child", "王小宝"), 409, "too_many_dependants")
    first = client.get("/v1/me/dependants", headers=guardian.headers).json_body["dependants"][0]
    assert client.delete(f"/v1/me/dependants/{first['dependant_id']}", headers=guardian.headers).status_code == 204
    added(client, guardian, *child(), "child")


def test_who_may_be_a_dependant_is_checked_field_by_field(client, citizen):
    guardian = citizen(id_number=people.id_number(born=years_ago(35)))
    adult = years_ago(30)
    cases = [
        ((people.id_number(born=adult), adult, "child"), {}, "birth_date"),             # neither a child nor elderly
        ((people.id_number(born=years_ago(5)), years_ago(6), "child"), {}, "birth_date"),  # not the number's date
        ((guardian.id_number, years_ago(35), "child"), {}, "id_number"),               # oneself
        ((people.with_wrong_check_digit(people.id_number(born=years_ago(5))), years_ago(5), "child"), {}, "id_number"),
        ((people.passport(), years_ago(70), "parent"), {"document_type": "passport"}, "nationality"),
        ((people.id_number(born=years_ago(5)), years_ago(5), "cousin_twice_removed"), {}, "relationship"),
    ]
    for (number, born, relationship), document, field in cases:
        error = assert_refused(add(client, guardian, number, born, relationship, "王小宝", **document), 422,
                               "validation_failed")
        assert fields(error) == {field}, (field, error)
    # a foreign grandparent with a passport is fine: no date in the number to compare
    visitor = added(client, guardian, people.passport(), years_ago(70), "grandparent", name="Maria Rossi",
                    document_type="passport", nationality="ITA")
    assert visitor["document_type"] == "passport" and visitor["name_masked"] == "M*********i"


def test_acting_for_someone_is_refused_where_it_is_not_declared_or_not_yours(client, citizen):
    guardian, stranger = citizen(), citizen()
    kid = added(client, guardian, *child(), "child")
    # adding dependants, reading the access log: a guardian does these only for themselves
    assert_refused(client.get("/v1/me/access-log", headers=acting(guardian, kid["dependant_id"])), 400,
                   "not_for_dependants")
    assert_refused(client.get("/v1/codes/me", headers=acting(stranger, kid["dependant_id"])), 404,
                   "unknown_dependant")
    assert_refused(client.get("/v1/codes/me", headers=acting(guardian, "not-an-id")), 404, "unknown_dependant")
    assert_refused(client.delete(f"/v1/me/dependants/{kid['dependant_id']}", headers=stranger.headers), 404,
                   "unknown_dependant")
