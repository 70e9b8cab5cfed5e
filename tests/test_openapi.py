"""The OpenAPI document: generated from the route table, served at GET /openapi.json, committed at
docs/openapi.json (and current), valid OpenAPI 3.1, and true to real responses."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from chalice import Blueprint, Chalice
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import openapi
from chalicelib.api.routes import declaration, route
from chalicelib.domain import limits
from chalicelib.security.access import Principal, Role
from tests.conftest import auth, client_token, dump

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "openapi.json"
REGENERATE = "make openapi  (or: .venv/bin/python -m chalicelib.api.openapi > docs/openapi.json)"


@pytest.fixture(scope="module")
def document(app_module: Any) -> dict[str, Any]:
    return openapi.build(app_module.app)


def test_the_committed_copy_is_current(document: dict[str, Any]) -> None:
    assert COMMITTED.exists(), f"docs/openapi.json is missing; generate it: {REGENERATE}"
    assert COMMITTED.read_text(encoding="utf-8") == openapi.render(document), \
        f"docs/openapi.json is stale; regenerate it: {REGENERATE}"


def test_it_is_served_without_a_token(client: Any, document: dict[str, Any]) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == json.loads(openapi.render(document))


def test_it_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    assert document["openapi"].startswith("3.1.")
    # the published OpenAPI 3.1 schema, applied as JSON Schema 2020-12 applies it: `format` annotates (a relative
    # tokenUrl is allowed: OpenAPI 3.1 lets every URL be a relative reference, resolved against the server)
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31, validate_formats=False)
    assert [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)] == []
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each schema is itself valid JSON Schema 2020-12
    schemathesis.openapi.from_dict(document)  # and schemathesis, which fuzzes it, takes it


def test_every_api_route_is_documented(app_module: Any, document: dict[str, Any]) -> None:
    routes = {(path, method.lower()) for path, methods in app_module.app.routes.items() for method in methods
              if path.startswith(openapi.API_PREFIXES)}
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert routes == documented
    for path, method in routes:
        operation = document["paths"][path][method]
        declared = declaration(app_module.app.routes[path][method.upper()].view_function)
        assert declared is not None, (method, path)
        assert bool(operation["security"]) == bool(declared.roles), (method, path)
        token = (method.upper(), path) == ("POST", openapi.TOKEN_URL)
        assert ("requestBody" in operation) == bool(declared.body or token)
        for status in operation["responses"]:
            assert status.isdigit(), (method, path, status)  # no `default`: every status is named


def test_every_route_is_declared_and_counts_the_limits_that_name_it(app_module: Any) -> None:
    """The web client's pages too go through the route wrapper (its one error shape, its 503); and a route's
    declared limits are those chalicelib/domain/limits.py lists for it (docs/limits.md's table)."""
    for path, methods in app_module.app.routes.items():
        for method, entry in methods.items():
            declared = declaration(entry.view_function)
            assert declared is not None, (method, path)
            assert [limit.name for limit in declared.rate_limits] == [
                limit.name for limit in limits.on(method, path)], (method, path)


def test_security_schemes_and_roles(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes[openapi.BEARER] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                       "description": schemes[openapi.BEARER]["description"]}
    flow = schemes[openapi.CLIENT]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/v1/oauth/token"
    assert set(flow["scopes"]) == {"checkpoint", "province", "health_authority", "national_authority", "ops", "lab",
                                   "venue_admin"}
    paths = document["paths"]
    assert paths["/v1/codes"]["post"]["security"] == [{openapi.BEARER: []}]
    assert paths["/v1/verifications"]["post"]["security"] == [{openapi.CLIENT: ["checkpoint"]}]
    assert paths["/v1/sync/lookups"]["post"]["security"] == [{openapi.CLIENT: ["province"]}]
    assert paths["/v1/webhooks"]["post"]["security"] == [{openapi.CLIENT: ["province"]}]  # through a helper
    assert paths["/v1/areas/{code}"]["put"]["security"] == [{openapi.CLIENT: ["health_authority"]}]
    for public in (("/v1/sessions", "post"), ("/v1/oauth/token", "post"), ("/.well-known/jwks.json", "get"),
                   ("/openapi.json", "get"), ("/v1/areas/{code}", "get")):
        assert paths[public[0]][public[1]]["security"] == [], public


def test_operations_carry_their_gbt_38963_names(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert paths["/v1/codes"]["post"]["tags"] == ["health declaration", "code generation"]
    assert paths["/v1/trips"]["post"]["tags"] == ["trip declaration"]
    assert paths["/v1/codes/me"]["get"]["tags"] == ["health information query"]
    assert paths["/v1/codes/me/qr"]["get"]["tags"] == ["code generation"]
    assert paths["/v1/verifications"]["post"]["tags"] == ["code verification"]
    assert paths["/v1/verifications"]["post"]["x-gbt-38963"] == ["6.7 健康码验码请求"]
    corrections = [op for path, ops in paths.items() if path.startswith("/v1/corrections") for op in ops.values()]
    assert corrections and all(op["tags"] == ["error correction"] for op in corrections)
    names = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    assert names["error correction"] == "GB/T 38963-2020 6.8 用户健康信息纠错"


def test_stable_bodies_have_schemas_and_errors_share_one(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def ref(path: str, method: str, status: str, media: str = "application/json") -> Any:
        return paths[path][method]["responses"][status]["content"][media]["schema"]

    assert ref("/v1/codes", "post", "201") == {"$ref": "#/components/schemas/HealthCode"}
    assert ref("/v1/codes/me", "get", "200") == {"$ref": "#/components/schemas/HealthCode"}
    assert ref("/v1/sessions", "post", "201") == {"$ref": "#/components/schemas/CitizenSession"}
    assert ref("/v1/oauth/token", "post", "200") == {"$ref": "#/components/schemas/ClientToken"}
    assert ref("/v1/trips", "post", "201") == {"$ref": "#/components/schemas/Trip"}
    assert ref("/v1/trips", "get", "200") == {"$ref": "#/components/schemas/TripPage"}
    assert ref("/v1/verifications", "post", "200") == {"oneOf": [
        {"$ref": "#/components/schemas/VerificationAccepted"}, {"$ref": "#/components/schemas/VerificationRefused"}]}
    assert paths["/v1/codes"]["post"]["responses"]["422"] == {"$ref": "#/components/responses/ValidationFailed"}
    for name, response in document["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name


# --- real responses hold to the document -----------------------------------------------------------

def conforms(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    """The response's status is documented and its body holds to that status's schema."""
    responses = document["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, (path, method, response.status_code)
    documented = responses[str(response.status_code)]
    if response.status_code == 204:
        assert "content" not in documented and not response.body and response.headers.get("X-Request-Id")
        return
    if "$ref" in documented:
        documented = document["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(json.loads(response.body))]
    assert not errors, (path, method, errors)
    assert response.headers.get("X-Request-Id")


def test_a_walkthrough_holds_to_the_document(client: Any, citizen: Any, checkpoint: dict[str, str],
                                            document: dict[str, Any]) -> None:
    """What fuzzing cannot reach (a fresh QR token is valid for minutes): a real apply, QR and verify."""
    person = citizen()
    conforms(document, "/v1/codes", "post", person.apply())
    conforms(document, "/v1/codes", "post", person.apply(temperature=38.2))  # an update: 200, yellow
    conforms(document, "/v1/codes/me", "get", client.get("/v1/codes/me", headers=person.headers))
    conforms(document, "/v1/codes/me/qr", "get", client.get("/v1/codes/me/qr?format=text", headers=person.headers))
    scan = client.post("/v1/verifications", headers=checkpoint,
                       body=dump({"token": person.qr_token(), "checkpoint_id": "gate-3", "temperature": 37.5}))
    assert scan.json_body["valid"] is True
    conforms(document, "/v1/verifications", "post", scan)
    # a checkpoint with an entry rule also answers admit, unmet and what its rule asks about
    from chalicelib.domain.colors import Color
    from chalicelib.domain.lab_results import EntryRule
    from chalicelib.services import entry_rules
    from chalicelib.services.sessions import create_client

    gate = create_client(Role.CHECKPOINT, "walkthrough gate", area="440106")
    entry_rules.set_rule(None, gate["client_id"], EntryRule((Color.GREEN,), 24, 2))
    gate_token = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                             body=f"grant_type=client_credentials&client_id={gate['client_id']}"
                                  f"&client_secret={gate['client_secret']}").json_body["access_token"]
    ruled = client.post("/v1/verifications", headers=auth(gate_token),
                        body=dump({"token": person.qr_token(), "checkpoint_id": "gate-4"}))
    assert ruled.json_body["admit"] is False and len(ruled.json_body["unmet"]) == 3, ruled.json_body
    conforms(document, "/v1/verifications", "post", ruled)
    refused = client.post("/v1/verifications", headers=checkpoint,
                          body=dump({"token": "not-a-token", "checkpoint_id": "gate-3"}))
    assert refused.json_body["valid"] is False
    conforms(document, "/v1/verifications", "post", refused)
    conforms(document, "/v1/me/risk", "get", client.get("/v1/me/risk", headers=person.headers))
    conforms(document, "/v1/trips", "get", client.get("/v1/trips", headers=person.headers))
    conforms(document, "/v1/codes", "post", client.post("/v1/codes", headers=person.headers, body="{"))
    conforms(document, "/v1/codes", "post", client.post("/v1/codes", headers=auth(client_token(
        client, Role.PROVINCE, province="44")), body=dump({})))


def test_a_trip_and_a_client_token_hold_to_the_document(client: Any, citizen: Any,
                                                         document: dict[str, Any]) -> None:
    import datetime as dt

    from chalicelib import clock

    person = citizen()
    today = dt.datetime.fromtimestamp(clock.now(), dt.timezone(dt.timedelta(hours=8))).date()
    trip = client.post("/v1/trips", headers=person.headers, body=dump({
        "date": (today - dt.timedelta(days=2)).isoformat(), "from": "440106", "to": "510104", "mode": "train",
        "number": "G1234", "carriage": 5, "seat": "12F"}))
    assert trip.status_code == 201, trip.json_body
    conforms(document, "/v1/trips", "post", trip)
    conforms(document, "/v1/trips", "get", client.get("/v1/trips?limit=1", headers=person.headers))
    from chalicelib.services.sessions import create_client

    created = create_client(Role.CHECKPOINT, "openapi test", area="440106")
    token = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                        body=f"grant_type=client_credentials&client_id={created['client_id']}"
                             f"&client_secret={created['client_secret']}")
    conforms(document, "/v1/oauth/token", "post", token)


def test_no_success_body_is_left_unspecified(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    assert media["schema"] != openapi.PERMISSIVE, (method, path, status)


def test_every_operation_answers_as_its_document_says(client: Any, citizen: Any, health_authority: Any,
                                                      document: dict[str, Any]) -> None:
    """Real data through every operation: each success answer (lists filled, optional parts present) holds to
    its response model, which the fuzzing alone reaches mostly empty."""
    import datetime as dt

    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from chalicelib import clock
    from chalicelib.domain import days
    from tests import people
    from tests.receiver import Receiver

    answered: set[tuple[str, str]] = set()

    def call(method: str, path: str, concrete: str | None = None, headers: dict[str, str] | None = None,
             body: Any = None) -> Any:
        response = getattr(client, method)(concrete or path, headers=headers or {},
                                           **({"body": dump(body)} if body is not None else {}))
        assert response.status_code < 300, (method, path, response.status_code, response.body[:500])
        conforms(document, path.split("?")[0], method, response)
        answered.add((method, path.split("?")[0]))
        return response.json_body if response.status_code != 204 else None

    person = citizen(people.in_province("44"))
    person.apply(current_area="440106")
    guangdong, authority = auth(client_token(client, Role.PROVINCE, province="44")), health_authority("44")
    day = days.today(clock.now()) - dt.timedelta(days=1)

    # a county no other test reads: a level raised here would turn later tests' residents yellow
    call("put", "/v1/areas/{code}", "/v1/areas/441781", authority, {"level": "medium"})
    call("get", "/v1/areas/{code}", "/v1/areas/441781")
    call("post", "/v1/trips", headers=person.headers, body={
        "date": day.isoformat(), "from": "510104", "to": "440106", "mode": "flight", "number": "CA1234",
        "seat": "12A"})
    call("post", "/v1/checkins", headers=person.headers, body={"area": "440106", "temperature": 36.6, "symptoms": []})
    call("post", "/v1/exposures", headers=authority, body={
        "mode": "flight", "number": "CA1234", "date": day.isoformat(), "case_type": "confirmed",
        "rows": {"from": 10, "to": 14}, "note": "two rows either side"})
    answer = call("get", "/v1/exposures?", f"/v1/exposures?number=CA1234&date={day.isoformat()}")
    assert answer["affected"] and answer["exposures"][0]["rows"] == {"from": 10, "to": 14}
    call("post", "/v1/health-statuses", headers=authority, body={"id_number": person.id_number,
                                                                  "status": "close_contact"})
    record = {"id_number": person.id_number, "issued_at": clock.now() - 60, "version": 1}
    call("post", "/v1/sync/local-codes", headers=guangdong, body={"province": "44", "records": [
        {**record, "color": "yellow", "local_code_id": "gd-oa-1", "updated_at": clock.now() - 60}]})
    call("post", "/v1/sync/health-records", headers=guangdong, body={"province": "44", "records": [
        {**record, "record_id": "gd-rec-1", "status": "suspected", "institution": "广州市第八人民医院"}]})
    looked = call("post", "/v1/sync/lookups", headers=guangdong, body={"id_numbers": [person.id_number],
                                                                        "purpose": "Arrival screening"})
    assert looked["results"][0]["local_codes"]
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = {**json.loads(ECAlgorithm.to_jwk(key)), "kid": "gd-2026", "nbf": clock.now() - 60}
    call("put", "/v1/provinces/{code}/keys", "/v1/provinces/44/keys", guangdong, {"keys": [jwk]})
    call("get", "/v1/provinces/{code}/keys", "/v1/provinces/44/keys")

    institution = {"name": "广州市疾控中心实验室", "county": "440106"}
    call("post", "/v1/sync/test-results", headers=guangdong, body={"province": "44", "records": [
        {"id_number": person.id_number, "record_id": "gd-t-1", "sample_time": clock.now() - 7200,
         "result_time": clock.now() - 60, "result": "negative", "test_type": "pcr", "institution": institution,
         "version": 1}]})
    call("post", "/v1/sync/vaccinations", headers=guangdong, body={"province": "44", "records": [
        {"id_number": person.id_number, "record_id": "gd-v-1", "product": "重组新冠病毒疫苗", "dose": 1,
         "date": "2026-05-01", "institution": institution, "version": 1}]})
    from chalicelib.services.sessions import create_client

    gate = create_client(Role.CHECKPOINT, "openapi gate", area="440106")
    call("put", "/v1/checkpoints/{client_id}/rule", f"/v1/checkpoints/{gate['client_id']}/rule", authority,
         {"colors": ["green"], "negative_test_within_hours": 48, "min_doses": 2})

    for path in ("/v1/me/risk", "/v1/me/cities", "/v1/me/local-codes", "/v1/me/lookups", "/v1/me/access-log",
                 "/v1/me/history", "/v1/codes/me", "/v1/trips", "/v1/me/tests", "/v1/me/vaccinations"):
        listed = call("get", path, headers=person.headers)
        assert all(value for value in listed.values() if isinstance(value, list)), (path, listed)
    reason = next(r for r in call("get", "/v1/me/risk", headers=person.headers)["reasons"]
                  if r["source"] == "medical_status")
    filed = call("post", "/v1/corrections", headers=person.headers, body={
        "source": "medical_status", "reason_code": reason["code"], "description": "我不是密切接触者"})
    call("get", "/v1/corrections", headers=person.headers)
    call("get", "/v1/corrections?", "/v1/corrections?status=pending", authority)
    call("get", "/v1/corrections/{correction_id}", f"/v1/corrections/{filed['id']}", authority)
    call("get", "/v1/corrections/{correction_id}/history", f"/v1/corrections/{filed['id']}/history", authority)
    call("post", "/v1/corrections/{correction_id}/decision", f"/v1/corrections/{filed['id']}/decision", authority,
         {"decision": "approve", "reason": "核实无接触", "period_days": 7, "override_color": "green"})
    # what is kept about the person (their scans' rows come from the people table's stream: test_my_data.py)
    call("get", "/v1/me/scans", headers=person.headers)
    kept = call("get", "/v1/me/data", headers=person.headers)
    assert {k["kind"] for k in kept["kinds"] if k["count"]} >= {"code", "trips", "medical_statuses", "corrections"}
    assert call("get", "/v1/me/data/export", headers=person.headers)["kinds"]["local_codes"]
    erased = call("post", "/v1/me/erasure", headers=person.headers, body={"confirm": True})
    assert erased["erased"] and erased["kept"]          # the close contact status stays, with the code

    venue = call("post", "/v1/venues", headers=authority, body={
        "name": "天河城", "county": "440106", "address": "天河路208号", "type": "shop", "capacity": 100})
    one_venue = f"/v1/venues/{venue['venue_id']}"
    call("get", "/v1/venues", headers=authority)
    call("get", "/v1/venues/{venue_id}", one_venue, authority)
    call("patch", "/v1/venues/{venue_id}", one_venue, authority, {"address": "天河路208号B1"})
    rotated_venue = call("post", "/v1/venues/{venue_id}/token", f"{one_venue}/token", authority)
    call("post", "/v1/visits", headers=person.headers, body={"venue_token": rotated_venue["token"]})
    call("post", "/v1/venue-exposures", headers=authority, body={
        "venue_id": venue["venue_id"], "from": clock.now() - 600, "to": clock.now(), "case_type": "suspected"})
    window = call("get", "/v1/venues/{venue_id}/visits?",
                  f"{one_venue}/visits?from={clock.now() - 3600}&to={clock.now() + 60}", authority)
    assert window["list"], window
    call("get", "/v1/venues/{venue_id}/stats", f"{one_venue}/stats", authority)
    for kind, accept in (("svg", "image/svg+xml"), ("png", "image/png")):
        poster = client.get(f"{one_venue}/poster.{kind}", headers={**authority, "Accept": accept})
        assert poster.status_code == 200 and poster.headers["Content-Type"] == accept, poster.body[:300]
        path = f"/v1/venues/{{venue_id}}/poster.{kind}"
        assert accept in document["paths"][path]["get"]["responses"]["200"]["content"]
        answered.add(("get", path))

    receiver = Receiver().start()
    try:
        hook = call("post", "/v1/webhooks", headers=guangdong, body={
            "url": receiver.url, "event_types": ["area.level_changed"], "description": "openapi test"})
        receiver.secrets.append(hook["secret"])
        one = f"/v1/webhooks/{hook['id']}"
        call("get", "/v1/webhooks", headers=guangdong)
        call("get", "/v1/webhooks/{webhook_id}", one, guangdong)
        call("patch", "/v1/webhooks/{webhook_id}", one, guangdong, {"description": "renamed"})
        rotated = call("post", "/v1/webhooks/{webhook_id}/rotate-secret", f"{one}/rotate-secret", guangdong)
        receiver.secrets.append(rotated["secret"])
        pinged = call("post", "/v1/webhooks/{webhook_id}/ping", f"{one}/ping", guangdong)
        assert pinged["status"] == "delivered", pinged
        call("get", "/v1/webhooks/{webhook_id}/deliveries", f"{one}/deliveries", guangdong)
        call("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
             f"{one}/deliveries/{pinged['delivery_id']}/replay", guangdong)
        call("delete", "/v1/webhooks/{webhook_id}", one, guangdong)
    finally:
        receiver.stop()
    kid_born, elder_born = day.replace(year=day.year - 5), day.replace(year=day.year - 70)
    kid_number, elder_number = people.id_number(born=kid_born), people.id_number(born=elder_born)
    call("post", "/v1/me/dependants", headers=person.headers, body={
        "name": "王小宝", "id_number": kid_number, "birth_date": kid_born.isoformat(), "relationship": "child"})
    elder = call("post", "/v1/me/dependants", headers=person.headers, body={
        "name": "李秀英", "id_number": elder_number, "birth_date": elder_born.isoformat(),
        "relationship": "grandparent"})
    assert len(call("get", "/v1/me/dependants", headers=person.headers)["dependants"]) == 2
    grandma = citizen(elder_number, "李秀英")
    [held] = call("get", "/v1/me/guardians", headers=grandma.headers)["guardians"]
    call("delete", "/v1/me/guardians/{guardian_id}", f"/v1/me/guardians/{held['guardian_id']}", grandma.headers)
    kid = call("get", "/v1/me/dependants", headers=person.headers)["dependants"][0]
    assert kid["dependant_id"] != elder["dependant_id"]
    call("delete", "/v1/me/dependants/{dependant_id}", f"/v1/me/dependants/{kid['dependant_id']}", person.headers)
    paper = call("post", "/v1/paper-codes", headers=person.headers, body={})
    printed = client.get(f"/v1/paper-codes/{paper['number']}/print", headers=person.headers)
    assert printed.status_code == 200 and printed.headers["Content-Type"] == "image/svg+xml"
    call("post", "/v1/paper-codes/{number}/revoke", f"/v1/paper-codes/{paper['number']}/revoke", person.headers)
    listed = client.get("/.well-known/paper-revocations.jws?since=0")
    assert listed.status_code == 200 and listed.headers["Content-Type"] == "application/jose"
    call("get", "/.well-known/jwks.json")
    call("get", "/.well-known/province-keys.json")
    gate = auth(client_token(client, Role.CHECKPOINT, area="440106"))
    uploaded = call("post", "/v1/verifications/batch", headers=gate, body={"scans": [
        {"scan_key": "0b6f3f4e-5d1c-4a5e-9c55-2f0b8d3c1a77", "token": person.qr_token(), "checkpoint_id": "gate-3",
         "temperature": 36.6, "scanned_at": clock.now(), "offline_color": "green"},
        {"scan_key": "0b6f3f4e-5d1c-4a5e-9c55-2f0b8d3c1a78", "token": "garbage", "checkpoint_id": "gate-3",
         "scanned_at": clock.now()}]})
    assert [r["status"] for r in uploaded["results"]] == ["recorded", "refused"], uploaded
    call("get", "/openapi.json")

    # the rest are answered in the walkthroughs above (sessions, tokens, applying, QR tokens, verifications)
    # (and the signed rule set, not JSON, in tests/test_lab_results.py)
    elsewhere = {("post", "/v1/sessions"), ("post", "/v1/oauth/token"), ("post", "/v1/codes"),
                 ("get", "/v1/codes/me/qr"), ("post", "/v1/verifications"), ("get", "/.well-known/entry-rules.jws"),
                 # not JSON: an image and a JWS, each checked above for its status and content type
                 ("get", "/v1/paper-codes/{number}/print"), ("get", "/.well-known/paper-revocations.jws")}
    documented = {(method, path) for path, methods in document["paths"].items() for method in methods}
    assert documented - elsewhere == answered


# --- a new route documents itself --------------------------------------------------------------------

class ThingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=10)


class ThingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=5, ge=1, le=9, description="How many")
    cursor: str | None = None


things = Blueprint(__name__)


@route(things, "/v1/things/{thing_id}", methods=["POST"], roles=[Role.HEALTH_AUTHORITY, Role.PROVINCE],
       body=ThingRequest, query=ThingQuery, responds={201: openapi.PERMISSIVE})
def make_thing(thing_id: str, caller: Principal, body: ThingRequest, query: ThingQuery):
    """Make a thing."""
    return {"id": thing_id, "name": body.name}


def test_a_route_added_anywhere_documents_itself() -> None:
    app = Chalice(app_name="elsewhere")
    app.register_blueprint(things)
    operation = openapi.build(app)["paths"]["/v1/things/{thing_id}"]["post"]
    assert operation["summary"] == "Make a thing."
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingRequest"}
    assert operation["security"] == [{openapi.CLIENT: ["province"]}, {openapi.CLIENT: ["health_authority"]}]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["thing_id"]["in"] == "path"
    assert parameters["limit"] == {"name": "limit", "in": "query", "required": False, "description": "How many",
                                   "schema": {"type": "integer", "minimum": 1, "maximum": 9, "default": 5}}
    assert parameters["cursor"]["schema"] == {"type": "string"}  # a query value is never JSON null
    assert set(operation["responses"]) == {"201", "400", "401", "403", "404", "413", "415", "422", "503"}
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == openapi.PERMISSIVE


# --- what fuzzing found ------------------------------------------------------------------------------

@pytest.mark.parametrize("date", ["0", "00", "86400", "2026-1-5", "20260105"])
def test_a_date_is_yyyy_mm_dd_and_nothing_else(client: Any, citizen: Any, date: str) -> None:
    """The document says `format: date`; pydantic alone also read a number as epoch seconds (0 -> 1970-01-01)."""
    query = client.get(f"/v1/exposures?number=CA1234&date={date}")
    assert query.status_code == 422 and query.json_body["error"]["details"][0]["field"] == "date", query.json_body
    person = citizen()
    trip = client.post("/v1/trips", headers=person.headers,
                       body=dump({"date": date, "from": "440106", "to": "510104", "mode": "car"}))
    assert trip.status_code == 422 and trip.json_body["error"]["details"][0]["field"] == "date", trip.json_body
