"""Bad input from a mini-program, a gate scanner or a script: every refusal is a 4xx in the one error shape,
names the field at fault, never writes anything, and never turns into a 5xx.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from chalicelib import clock
from chalicelib.api import openapi
from chalicelib.domain import days, idnumber
from chalicelib.domain.idnumber import check_character
from chalicelib.security.access import Role
from tests import people
from tests.conftest import auth, client_token, dump
from tests.refusals import assert_refused, fields

JSON = {"Content-Type": "application/json"}


def declaration(**changes: Any) -> dict[str, Any]:
    body = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
            "current_area": "510104", **changes}
    return {k: v for k, v in body.items() if v is not ...}


def post_code(client: Any, person: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, (str, bytes)) else dump(body)
    return client.post("/v1/codes", headers={**person.headers, **(headers or {})}, body=raw)


def assert_nothing_written(client: Any, person: Any) -> None:
    assert_refused(client.get("/v1/codes/me", headers=person.headers), 404, "no_code")


# --- the body is not JSON, or not an object -----------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"temperature": 36.5,', "temperature=36.5", "", "{'temperature': 36.5}",
                                 b"\xff\xfe{}"])
def test_a_body_that_is_not_json_is_malformed(client, citizen, raw):
    person = citizen()
    assert_refused(post_code(client, person, raw), 400, "malformed_json")
    assert_nothing_written(client, person)


@pytest.mark.parametrize("raw", ["[]", dump([declaration()]), "null", "36.5", '"green"'])
def test_a_json_body_that_is_not_an_object_is_refused(client, citizen, raw):
    person = citizen()
    assert_refused(post_code(client, person, raw), 400, "malformed_json")
    assert_nothing_written(client, person)


# --- the object has missing, extra or wrong fields ------------------------------------------------------------

@pytest.mark.parametrize("missing", ["temperature", "contact_with_cases", "stayed_in_high_risk_area",
                                     "current_area"])
def test_a_missing_field_is_named(client, citizen, missing):
    person = citizen()
    error = assert_refused(post_code(client, person, declaration(**{missing: ...})), 422, "validation_failed")
    assert fields(error) == {missing}
    assert error["details"][0]["type"] == "missing"
    assert_nothing_written(client, person)


def test_an_extra_field_is_refused(client, citizen):
    person = citizen()
    error = assert_refused(post_code(client, person, declaration(color="green")), 422, "validation_failed")
    assert fields(error) == {"color"}
    assert_nothing_written(client, person)


@pytest.mark.parametrize("field, value", [("temperature", "36.5"), ("temperature", None), ("temperature", True),
                                          ("contact_with_cases", "yes"), ("contact_with_cases", 0),
                                          ("stayed_in_high_risk_area", "false"), ("current_area", 510104),
                                          ("symptoms", "cough")])
def test_a_value_of_the_wrong_type_is_refused(client, citizen, field, value):
    person = citizen()
    error = assert_refused(post_code(client, person, declaration(**{field: value})), 422, "validation_failed")
    assert fields(error) == {field}
    assert_nothing_written(client, person)


@pytest.mark.parametrize("temperature", ["33.9", "43.1", "-1", "365", "1e999"])
def test_a_temperature_out_of_range_is_refused(client, citizen, temperature):
    person = citizen()
    raw = dump(declaration(temperature=0)).replace('"temperature": 0', f'"temperature": {temperature}')
    assert temperature in raw
    error = assert_refused(post_code(client, person, raw), 422, "validation_failed")
    assert fields(error) == {"temperature"}
    assert_nothing_written(client, person)


def test_an_unknown_or_repeated_symptom_is_refused(client, citizen):
    person = citizen()
    error = assert_refused(post_code(client, person, declaration(symptoms=["cough", "headache"])), 422)
    assert fields(error) == {"symptoms.1"}
    error = assert_refused(post_code(client, person, declaration(symptoms=["cough", "cough"])), 422)
    assert fields(error) == {"symptoms"}
    assert_nothing_written(client, person)


@pytest.mark.parametrize("area", ["999999", "51010", "5101040", "abcdef", "510199"])
def test_an_unknown_area_is_refused(client, citizen, area):
    person = citizen()
    error = assert_refused(post_code(client, person, declaration(current_area=area)), 422, "validation_failed")
    assert fields(error) == {"current_area"}
    assert_nothing_written(client, person)


def test_a_refused_reapply_leaves_the_code_as_it_was(client, citizen):
    person = citizen()
    first = person.apply(temperature=38.0).json_body
    assert first["version"] == 1 and first["color"] == "yellow"
    for bad in (declaration(current_area="999999"), declaration(temperature="36.5"), "{", "[]",
                declaration(contact_with_cases="yes")):
        assert post_code(client, person, bad).status_code in (400, 422)
    now = client.get("/v1/codes/me", headers=person.headers).json_body
    assert (now["version"], now["color"], now["updated_at"]) == (1, "yellow", first["updated_at"])


# --- size, media type, method -------------------------------------------------------------------------------

def test_a_body_over_64_kib_is_too_large(client, citizen):
    person = citizen()
    huge = dump(declaration(note="x" * (64 * 1024)))
    assert_refused(post_code(client, person, huge), 413, "payload_too_large")
    assert_nothing_written(client, person)
    # just under the limit is parsed (and refused for the extra field, not for its size)
    padded = dump(declaration(note=""))
    just_under = dump(declaration(note="x" * (64 * 1024 - len(padded))))
    assert len(just_under.encode()) == 64 * 1024
    assert_refused(post_code(client, person, just_under), 422, "validation_failed")


def test_a_body_that_is_not_json_by_content_type_gets_our_415(client, citizen):
    person = citizen()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = post_code(client, person, declaration(), {"Content-Type": content_type})
        assert_refused(response, 415, "unsupported_media_type")
    assert_nothing_written(client, person)
    # charset parameters are fine
    ok = post_code(client, person, declaration(), {"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 201


def test_a_wrong_method_gets_our_405(client, citizen):
    person = citizen()
    for method in ("put", "delete", "patch"):
        response = getattr(client, method)("/v1/codes", headers=person.headers, body=dump(declaration()))
        assert_refused(response, 405, "method_not_allowed")
        assert "POST" in response.headers.get("Allow", "")
    assert_refused(client.post("/v1/codes/me", headers=person.headers, body=dump(declaration())), 405,
                   "method_not_allowed")


# --- logging in with a bad identity -------------------------------------------------------------------------

def login(client: Any, **self_asserted: Any) -> Any:
    body = {"name": people.name(), "id_number": people.id_number(), "phone": people.phone(), **self_asserted}
    return client.post("/v1/sessions", headers=JSON, body=dump({"self_asserted": body}))


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_a_good_self_assertion_logs_in(client):
    # the positive control of the cases below
    response = login(client, id_number=people.id_number().lower())
    assert response.status_code == 201 and response.json_body["token_type"] == "Bearer"


@pytest.mark.parametrize("id_number", [
    people.with_wrong_check_digit(people.id_number()),
    with_check("11010119900230123"),         # 30 February: only the birth date is wrong
    with_check("11010119891301123"),         # month 13
    # born after today in China (two days on: the list is built at collection, maybe just before midnight)
    with_check(f"110101{idnumber.china_today() + dt.timedelta(days=2):%Y%m%d}123"),
    with_check("99999919900101123"),         # no such division
    people.id_number()[:17],                 # 17 characters
    people.id_number() + "1",                # 19 characters
    "11010119900101123Y",
    " ",
], ids=["check-digit", "feb-30", "month-13", "born-after-today", "unknown-area", "17-chars", "19-chars",
        "bad-check-char", "blank"])
def test_an_invalid_id_number_is_refused(client, id_number):
    error = assert_refused(login(client, id_number=id_number), 422, "validation_failed")
    assert fields(error) == {"self_asserted.id_number"}


@pytest.mark.parametrize("phone", ["12345", "02881234567", "1381234567", "138123456789", "+8613812345678",
                                   "1381234567a"])
def test_an_invalid_phone_is_refused(client, phone):
    error = assert_refused(login(client, phone=phone), 422, "validation_failed")
    assert fields(error) == {"self_asserted.phone"}


@pytest.mark.parametrize("name", ["", "王小明123", "<script>", "1"])
def test_an_invalid_name_is_refused(client, name):
    error = assert_refused(login(client, name=name), 422, "validation_failed")
    assert fields(error) == {"self_asserted.name"}


def test_exactly_one_of_assertion_and_self_assertion(client):
    me = {"name": people.name(), "id_number": people.id_number(), "phone": people.phone()}
    both = client.post("/v1/sessions", headers=JSON, body=dump({"assertion": "eyJ" + "a" * 40, "self_asserted": me}))
    assert_refused(both, 422, "validation_failed")
    neither = client.post("/v1/sessions", headers=JSON, body=dump({}))
    assert_refused(neither, 422, "validation_failed")


# --- no 5xx anywhere ----------------------------------------------------------------------------------------

NASTY_BODIES = ["", "{", "[]", "null", "0", '"x"', "{}", '{"a":' * 3000 + "1" + "}" * 3000, "[" * 5000,
                '{"temperature": NaN}', '{"temperature": Infinity}', '{"token": {"$ne": null}}',
                dump({"token": "x" * 5000, "checkpoint_id": "a"}), dump({"checkpoint_id": "../../etc/passwd"}),
                dump({"self_asserted": None}), dump({"assertion": None}), dump({"grant_type": ["a"]}),
                "\u0000", dump({"": ""}), '{"temperature": 36.5, "temperature": 99}']


def test_no_body_turns_into_a_server_error(client, citizen, checkpoint):
    person = citizen()
    targets = [("/v1/codes", person.headers), ("/v1/verifications", checkpoint), ("/v1/sessions", JSON),
               ("/v1/oauth/token", JSON)]
    for path, headers in targets:
        for raw in NASTY_BODIES:
            response = client.post(path, headers=headers, body=raw)
            assert 400 <= response.status_code < 500, (path, raw[:60], response.status_code, response.body[:300])
            assert_refused(response, response.status_code)
    assert_nothing_written(client, person)


# --- a body without a Content-Type ----------------------------------------------------------------------------

def role_headers(client: Any, citizen: Any, security: list[dict[str, list[str]]]) -> dict[str, str]:
    """The Authorization of a caller the operation admits (none for a public one), and no Content-Type."""
    if not security:
        return {}
    if "citizenBearer" in security[0]:
        return {"Authorization": citizen().headers["Authorization"]}
    role = Role(security[0]["systemClient"][0])
    province = "44" if role in (Role.PROVINCE, Role.HEALTH_AUTHORITY) else None
    area = "440106" if role is Role.CHECKPOINT else None
    return {"Authorization": f"Bearer {client_token(client, role, province=province, area=area)}"}


def test_every_body_without_a_content_type_gets_415(client, app_module, citizen):
    """docs/errors.md: a body that is not declared application/json (or form data at /v1/oauth/token) is 415,
    a missing Content-Type included: the caller did not say what it sent."""
    document = openapi.build(app_module.app)
    with_bodies = [(method, path, operation) for path, methods in document["paths"].items()
                   for method, operation in methods.items() if "requestBody" in operation]
    assert len(with_bodies) >= 15
    for method, path, operation in with_bodies:
        example = operation["requestBody"]["content"].get("application/json", {}).get("example", {"a": 1})
        concrete = (path.replace("/areas/{code}", "/areas/440106").replace("{code}", "44")
                    .replace("{correction_id}", "cor_0123456789abcdef").replace("{webhook_id}", "wh_0123456789abcdef"))
        headers = role_headers(client, citizen, operation["security"])
        response = getattr(client, method)(concrete, headers=headers, body=dump(example))
        assert_refused(response, 415, "unsupported_media_type")


# --- identifiers we never issued: refused before any DynamoDB key is built from them --------------------------

LONG = 3000   # past DynamoDB's key limits: 2,048 bytes for a partition key, 1,024 for a sort key


@pytest.fixture
def province(client):
    return lambda code: auth(client_token(client, Role.PROVINCE, province=code))


def province_key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = ec.generate_private_key(ec.SECP256R1())
    return private, {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": kid}


def test_a_webhook_or_delivery_id_we_never_issued_is_not_found(client, province):
    guangdong = province("44")
    hook = client.post("/v1/webhooks", headers=guangdong, body=dump({
        "url": "http://127.0.0.1:9/hooks/healthcode", "event_types": ["exposure.published"]})).json_body
    for webhook_id in ("wh_" + "a" * LONG, "a" * LONG, "wh_0123", "wh_0123456789ABCDEF", "wh_" + "数" * 16):
        for method, suffix, body in (("get", "", None), ("patch", "", {"description": "x"}), ("delete", "", None),
                                     ("post", "/rotate-secret", None), ("post", "/ping", None),
                                     ("get", "/deliveries", None)):
            response = getattr(client, method)(f"/v1/webhooks/{webhook_id}{suffix}", headers=guangdong,
                                               body=dump(body) if body else None)
            assert_refused(response, 404, "unknown_webhook")
        assert_refused(client.post(f"/v1/webhooks/{webhook_id}/deliveries/evt_x/replay", headers=guangdong), 404,
                       "unknown_webhook")
    for delivery_id in ("evt_" + "1" * LONG, "1" * LONG, "evt_x", "evt_" + "数" * 23):
        replay = client.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/replay", headers=guangdong)
        assert_refused(replay, 404, "unknown_delivery")
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=guangdong).status_code == 200
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=guangdong).status_code == 204


def test_a_correction_id_we_never_issued_is_not_found(client, health_authority):
    reviewer = health_authority("44")
    for correction_id in ("cor_" + "0" * LONG, "c" * LONG, "cor_0", "cor_" + "数" * 16):
        for method, suffix, body in (("get", "", None), ("get", "/history", None),
                                     ("post", "/decision", {"decision": "reject", "reason": "不属实"})):
            response = getattr(client, method)(f"/v1/corrections/{correction_id}{suffix}", headers=reviewer,
                                               body=dump(body) if body else None)
            assert_refused(response, 404, "unknown_correction")


def test_a_province_code_that_is_no_province_has_no_keys(client, province):
    for code in ("4" * LONG, "444", "4", "数数", "ab"):
        assert_refused(client.get(f"/v1/provinces/{code}/keys"), 404, "unknown_province")
        registered = client.put(f"/v1/provinces/{code}/keys", headers=province("44"),
                                body=dump({"keys": [province_key("gd-1")[1]]}))
        assert_refused(registered, 403, "outside_province")


# --- cursors that decode to a key the list never gave out --------------------------------------------------------

def recut(cursor: str, **changes: Any) -> str:
    """The cursor with some of its key's attributes changed, encoded as the API encodes cursors."""
    key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return base64.urlsafe_b64encode(json.dumps({**key, **changes}).encode()).decode()


def first_cursor(client: Any, path: str, headers: dict[str, str]) -> str:
    listed = client.get(f"{path}{'&' if '?' in path else '?'}limit=1", headers=headers)
    assert listed.status_code == 200, listed.json_body
    assert listed.json_body["next_cursor"], listed.json_body
    return listed.json_body["next_cursor"]


def test_a_cursor_with_a_key_we_never_issued_is_refused(client, citizen, province, health_authority):
    person = citizen(people.in_province("44"))
    person.apply(temperature=38.4, symptoms=["cough"], current_area="440106")
    person.apply(temperature=38.6, symptoms=["cough"], current_area="440106")   # a second history entry
    guangdong = province("44")
    for _ in range(2):
        assert client.post("/v1/sync/lookups", headers=guangdong, body=dump(
            {"id_numbers": [person.id_number], "purpose": "返岗人员健康核验"})).status_code == 200
    today = days.today(clock.now())
    for back in (1, 2):
        assert client.post("/v1/trips", headers=person.headers, body=dump({
            "date": (today - dt.timedelta(days=back)).isoformat(), "from": "440106", "to": "440105",
            "mode": "car"})).status_code == 201
    for code in ("declared_fever", "declared_symptoms"):
        filed = client.post("/v1/corrections", headers=person.headers, body=dump({
            "source": "declaration", "reason_code": code, "description": "体温计坏了，量错了"}))
        assert filed.status_code == 201, filed.json_body
    hook = client.post("/v1/webhooks", headers=guangdong, body=dump({
        "url": "http://127.0.0.1:9/hooks/healthcode", "event_types": ["exposure.published"]})).json_body
    for _ in range(2):
        assert client.post(f"/v1/webhooks/{hook['id']}/ping", headers=guangdong).status_code == 200
    reviewer = health_authority("44")

    lists = {  # path -> (headers, the key attributes of its cursor a caller could change)
        "/v1/me/history": (person.headers, {"sk": ["", "lookup#0000000001#lkp_0#0", "history#" + "9" * 1100]}),
        "/v1/me/lookups": (person.headers, {"sk": ["", "history#0000000001#00000001", "lookup#" + "9" * 1100]}),
        "/v1/trips": (person.headers, {"sk": ["", "2026-01-01", "2026-01-01#trp_" + "0" * 1100, "9" * 1100]}),
        "/v1/corrections": (person.headers, {"queue_sort": ["", "9" * 1100], "pk": ["", "cor_" + "0" * LONG]}),
        "/v1/corrections?status=pending": (reviewer, {"queue_sort": ["", "9" * 1100],
                                                      "pk": ["", "cor_" + "0" * LONG]}),
        f"/v1/webhooks/{hook['id']}/deliveries": (guangdong, {"sk": ["", "evt_" + "9" * 1100, "wh_x"]}),
    }
    for path, (headers, attributes) in lists.items():
        cursor = first_cursor(client, path, headers)
        assert client.get(f"{path}{'&' if '?' in path else '?'}cursor={cursor}", headers=headers).status_code == 200
        for attribute, values in attributes.items():
            for value in values:
                forged = recut(cursor, **{attribute: value})
                response = client.get(f"{path}{'&' if '?' in path else '?'}cursor={forged}", headers=headers)
                error = assert_refused(response, 422, "validation_failed")
                assert fields(error) == {"cursor"}, (path, attribute, value)
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=guangdong).status_code == 204


# --- province keys that are not points on their curve --------------------------------------------------------

def test_a_province_key_that_is_not_base64url_or_not_on_its_curve_is_refused(client, province):
    heilongjiang = province("23")  # a province no other test registers keys for
    _, good = province_key("hl-1")
    other = province_key("hl-2")[1]
    bad_keys = {
        "x not base64url": {**good, "x": "!!!!"},
        "x with characters outside base64url": {**good, "x": good["x"] + "!!"},
        "x with padding": {**good, "x": good["x"] + "="},
        "x in standard base64": {**good, "x": good["x"].replace("-", "+").replace("_", "/") + "+/"},
        "x too short": {**good, "x": "AAAA"},
        "point off the curve": {**good, "y": other["y"]},
        "EC without y": {k: v for k, v in good.items() if k != "y"},
        "Ed25519 of the wrong length": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "hl-3"},
        "Ed25519 not base64url": {"kty": "OKP", "crv": "Ed25519", "x": "*" * 43, "kid": "hl-4"},
    }
    for label, key in bad_keys.items():
        refused = client.put("/v1/provinces/23/keys", headers=heilongjiang, body=dump({"keys": [key]}))
        error = assert_refused(refused, 422, "validation_failed")
        assert error["details"] and error["details"][0]["field"].startswith("keys"), (label, error)
    assert_refused(client.get("/v1/provinces/23/keys"), 404, "unknown_province")  # nothing was stored
    assert client.put("/v1/provinces/23/keys", headers=heilongjiang, body=dump({"keys": [good]})).status_code == 200


# --- webhook URLs that no request could be sent to --------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/hooks", "http://127.0.0.1:65536/hooks",
                                 "http://127.0.0.1:0/hooks", "http://127.0.0.1:-1/hooks", "http://127.0.0.1:8x/hooks",
                                 "http://[::1/hooks", "http://127.0.0.1\u0000/hooks", "http://127.0.0.1:80 /hooks",
                                 "http://127.0.0.1/hooks\r\nX-Injected: 1", "http://127.0.0.1/ho oks",
                                 "http://127.0.0.1/钩子", "http://127.0.0.1/hooks?省=粤",
                                 "http:///hooks", "ftp://127.0.0.1/hooks"])
def test_a_webhook_url_no_request_could_go_to_is_refused(client, province, url):
    headers = province("46")
    created = client.post("/v1/webhooks", headers=headers,
                          body=dump({"url": url, "event_types": ["exposure.published"]}))
    error = assert_refused(created, 422, "validation_failed")
    assert [(d["field"], d["type"]) for d in error["details"]] == [("url", "unsafe_url")]
    hook = client.post("/v1/webhooks", headers=headers, body=dump({
        "url": "http://127.0.0.1:9/hooks", "event_types": ["exposure.published"]})).json_body
    changed = client.patch(f"/v1/webhooks/{hook['id']}", headers=headers, body=dump({"url": url}))
    assert_refused(changed, 422, "validation_failed")
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=headers).json_body["url"] == "http://127.0.0.1:9/hooks"
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=headers).status_code == 204


# --- no ID number inside any identifier or text we store ---------------------------------------------------------

def test_an_id_number_inside_an_identifier_or_stored_text_is_refused(client, citizen, province, checkpoint,
                                                                     health_authority):
    """README: the ID number is never stored. A province's local code id is shown to other provinces, a checkpoint
    id and a look-up's purpose to the people concerned: none may carry one, in any case of its check character."""
    person = citizen(people.in_province("43"))
    person.apply(temperature=38.2, current_area="430102")
    inside = people.in_province("43")
    inside = inside if inside[-1] != "X" else people.in_province("43")
    hunan = province("43")
    now = clock.now()
    local = {"id_number": person.id_number, "color": "green", "local_code_id": f"hn-{inside}", "issued_at": now - 60,
             "updated_at": now - 60, "version": 1}
    record = {"id_number": person.id_number, "record_id": f"{inside}-1", "status": "under_observation",
              "institution": "长沙市第一医院", "issued_at": now - 60, "version": 1}
    refusals = [
        ("/v1/sync/local-codes", hunan, {"province": "43", "records": [local]}, "records.0.local_code_id"),
        ("/v1/sync/health-records", hunan, {"province": "43", "records": [record]}, "records.0.record_id"),
        ("/v1/sync/health-records", hunan, {"province": "43", "records": [
            {**record, "record_id": "hn-1", "institution": f"长沙市第一医院 {inside}"}]}, "records.0.institution"),
        ("/v1/sync/lookups", hunan, {"id_numbers": [person.id_number], "purpose": f"核验 {inside} 的同行人"},
         "purpose"),
        ("/v1/verifications", checkpoint, {"token": person.qr_token(), "checkpoint_id": f"gate-{inside}"},
         "checkpoint_id"),
        ("/v1/health-statuses", health_authority("43"), {"id_number": person.id_number, "status": "recovered",
                                                         "note": f"same as {inside}"}, "note"),
        ("/v1/corrections", person.headers, {"source": "declaration", "reason_code": "declared_fever",
                                             "description": f"我的身份证号是{inside}，体温量错了"}, "description"),
        ("/v1/webhooks", hunan, {"url": f"http://127.0.0.1:9/hooks?person={inside}",
                                 "event_types": ["exposure.published"]}, "url"),
        ("/v1/webhooks", hunan, {"url": "http://127.0.0.1:9/hooks", "event_types": ["exposure.published"],
                                 "description": f"for {inside.lower()}"}, "description"),
    ]
    for path, headers, body, field in refusals:
        error = assert_refused(client.post(path, headers=headers, body=dump(body)), 422, "validation_failed")
        assert [(d["field"], d["type"]) for d in error["details"]] == [(field, "contains_id_number")], path
        assert inside not in dump(error)
    keys = client.put("/v1/provinces/43/keys", headers=hunan, body=dump({"keys": [province_key(f"k{inside}")[1]]}))
    assert_refused(keys, 422, "validation_failed")
    area = client.put("/v1/areas/430102", headers=health_authority("43"), body=dump({"level": "low",
                                                                                     "note": f"{inside}"}))
    assert_refused(area, 422, "validation_failed")
    keyed = client.post("/v1/codes", headers={**person.headers, "Idempotency-Key": f"apply-{inside}"},
                        body=dump(declaration(current_area="430102")))
    assert_refused(keyed, 422, "validation_failed")
    # nothing of it was stored
    assert client.get("/v1/me/local-codes", headers=person.headers).json_body["local_codes"] == []
    assert client.get("/v1/me/lookups", headers=person.headers).json_body["lookups"] == []
    assert client.get("/v1/corrections", headers=person.headers).json_body["corrections"] == []
    assert_refused(client.get("/v1/provinces/43/keys"), 404, "unknown_province")
    # 18 characters that are no ID number (a wrong check character) are an identifier like any other
    not_an_id = people.with_wrong_check_digit(inside)
    accepted = client.post("/v1/sync/local-codes", headers=hunan, body=dump(
        {"province": "43", "records": [{**local, "local_code_id": f"hn-{not_an_id}"}]}))
    assert accepted.status_code == 200 and accepted.json_body["written"] == 1


# --- HTTP Basic credentials that cannot be read ------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [
    "Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Basic", "basic   ", "BASIC Zm9v=bar"],
    ids=["not-base64", "no-colon", "not-utf8", "empty", "blank", "junk-after-padding"])
def test_unreadable_basic_credentials_are_an_invalid_client(client, authorization):
    """RFC 6749 §5.2 and docs/errors.md: a client that fails to authenticate is 401 invalid_client, with the
    challenge of the scheme it tried."""
    response = client.post("/v1/oauth/token", body="grant_type=client_credentials",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Authorization": authorization})
    assert_refused(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic "), response.headers


def test_a_wrong_secret_sent_as_basic_is_challenged_with_basic(client):
    from chalicelib.services.sessions import create_client

    created = create_client(Role.CHECKPOINT, "gate", area="440106")
    wrong = base64.b64encode(f"{created['client_id']}:{created['client_secret']}x".encode()).decode()
    response = client.post("/v1/oauth/token", body="grant_type=client_credentials",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Authorization": f"Basic {wrong}"})
    assert_refused(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    # an access token refused elsewhere is still challenged as a bearer token
    refused = client.get("/v1/codes/me", headers={"Authorization": "Bearer nope"})
    assert_refused(refused, 401, "unauthenticated")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer ")
