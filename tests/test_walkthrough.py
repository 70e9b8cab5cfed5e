"""The README walkthrough as a scenario: a worker from Sichuan applies, shows the QR, a gate verifies it."""
from __future__ import annotations

import jwt

from chalicelib.services import qr_images
from chalicelib.store import scans
from tests import people
from tests.conftest import dump


def test_worker_applies_and_a_checkpoint_verifies_the_qr(client, citizen, checkpoint, pump):
    worker = citizen(people.in_province("51"), "王小明")
    applied = worker.apply()
    assert applied.status_code == 201
    code = applied.json_body
    assert code["color"] == "green" and code["reasons"] == []
    assert code["name_masked"] == "王*明" and code["id_last4"] == worker.id_number[-4:]
    assert worker.id_number not in dump(code) and "王小明" not in dump(code)

    mine = client.get("/v1/codes/me", headers=worker.headers).json_body
    assert mine["code_id"] == code["code_id"] and mine["color"] == "green"

    qr = client.get("/v1/codes/me/qr?format=text", headers=worker.headers).json_body
    token = qr["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"sub", "exp", "iat", "c"} and claims["sub"] == code["code_id"]
    assert worker.id_number not in token and len(token) <= 213
    # 10-M at most: the signed color an offline checkpoint reads costs one version (docs/BENCHMARKS.md, issue 17)
    assert qr_images.symbol(token).version <= 10

    verified = client.post("/v1/verifications", headers=checkpoint,
                           body=dump({"token": token, "checkpoint_id": "gz-south-gate-3", "temperature": 36.6}))
    assert verified.status_code == 200
    result = verified.json_body
    assert result["valid"] is True and result["color"] == "green" and result["fever"] is False
    assert result["name_masked"] == "王*明" and result["id_last4"] == worker.id_number[-4:]

    pump.drain()  # the scan was noted on the code in the verify's one round trip; its row comes from the stream
    recorded = scans.since(code["code_id"], 0, now=result["checked_at"])
    assert [(s.scan.checkpoint_id, s.scan.temperature, s.color, s.scan.area) for s in recorded] == [
        ("gz-south-gate-3", 36.6, "green", "440106")]
    assert recorded[0].expires_at > result["checked_at"]


def test_declared_fever_turns_the_code_yellow_and_a_reapply_turns_it_green(client, citizen, checkpoint):
    person = citizen()
    feverish = person.apply(temperature=38.2, symptoms=["cough"]).json_body
    assert feverish["color"] == "yellow"
    assert {r["code"] for r in feverish["reasons"]} == {"declared_fever", "declared_symptoms"}
    token = person.qr_token()

    healthy = person.apply(temperature=36.4)
    assert healthy.status_code == 200 and healthy.json_body["color"] == "green"
    assert healthy.json_body["version"] == 2
    # the token issued while yellow verifies with the live color, not the color at issue time
    verified = client.post("/v1/verifications", headers=checkpoint,
                           body=dump({"token": token, "checkpoint_id": "gate-1"})).json_body
    assert verified["valid"] and verified["color"] == "green"


def test_contact_with_cases_is_red(citizen):
    code = citizen().apply(contact_with_cases=True).json_body
    assert code["color"] == "red" and code["reasons"][0]["code"] == "declared_contact"


def test_qr_images_in_the_code_color(client, citizen):
    person = citizen()
    person.apply(temperature=38.0)
    svg = client.get("/v1/codes/me/qr?format=svg", headers=person.headers)
    assert svg.status_code == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    assert "<svg" in svg.body.decode() and "#b88600" in svg.body.decode()
    png = client.get("/v1/codes/me/qr?format=png", headers={**person.headers, "Accept": "image/png"})
    assert png.status_code == 200 and png.body.startswith(b"\x89PNG")
    bad = client.get("/v1/codes/me/qr?format=gif", headers=person.headers)
    assert bad.status_code == 422 and bad.json_body["error"]["details"][0]["field"] == "format"


def test_no_code_yet(client, citizen):
    response = client.get("/v1/codes/me", headers=citizen().headers)
    assert response.status_code == 404 and response.json_body["error"]["code"] == "no_code"
