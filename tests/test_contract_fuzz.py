"""schemathesis over every operation of the OpenAPI document, against the app served for real over HTTP.

The server is `chalice local` (tests/fuzz_server.py: the same server `make run` starts, with name
resolution and outbound connections limited to this machine), a subprocess on the test session's
DynamoDB Local, on tables of its own (a fresh prefix), so generated webhooks, areas and clients never
meet the other tests' data or their event pump. Each operation is called with the token of the role
its `security` names: a citizen (POST /v1/sessions), and checkpoint, province and health-authority
clients (created with chalicelib.services.sessions.create_client, tokens from POST /v1/oauth/token).

Every response must be no 5xx and conform to the document: status code, content type, headers and body
schema; data the document calls invalid must be refused (negative_data_rejection); an operation that
declares security must refuse a request without valid credentials (ignored_auth); a required header
missing must be refused. Generation is derandomized, so a run is reproducible: about 3,600 requests in
about 50 s. HEALTHCODE_FUZZ_EXAMPLES (default 10 per operation and phase; the coverage phase's ~2,900 cases
do not depend on it) scales it up and HEALTHCODE_FUZZ_SEED
makes it random with that seed, for a longer hunt (docs/api.md).

Not checked: positive_data_acceptance, because the document cannot express the semantic rules
(ID-number check digits, GB/T 2260 division codes, flight-number shapes, date windows) that make most
schema-valid generated data a correct 422; unsupported_method (and the coverage phase's undeclared
methods), because an undeclared method never reaches the app: API Gateway answers it in prod (403), and
chalice local's HTTP server here (501 for TRACE); the stateful phase (the document declares no links).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

import app as application
from chalicelib import settings as app_settings
from chalicelib.api import openapi
from chalicelib.domain import divisions
from chalicelib.domain.idnumber import check_character
from chalicelib.security.access import Role
from infra import bootstrap
from infra.local.dynamodb_local import free_port
from tests import people

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("HEALTHCODE_FUZZ_EXAMPLES", "10"))
MIN_CASES = 3000
DOCUMENT = openapi.build(application.app)
OPERATIONS = [(method.upper(), path) for path, methods in DOCUMENT["paths"].items() for method in methods]

SEED = int(os.environ["HEALTHCODE_FUZZ_SEED"]) if os.environ.get("HEALTHCODE_FUZZ_SEED") else None


def configuration(base_url: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "base-url": base_url,
        # chalice local answers a kept-alive connection ~40 ms late (its writes meet delayed ACKs):
        # a connection per request is 10-20x faster here
        "headers": {"Connection": "close"},
        "request-timeout": 30,
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": SEED is None, "database": "none"},
        **({"seed": SEED} if SEED is not None else {}),
        "suppress-health-check": ["all"],
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True, "unexpected-methods": []},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            # a body over the size limit is refused with 413, which schemathesis does not list by default
            "negative_data_rejection": {"enabled": True,
                                        "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]},
            "ignored_auth": {"enabled": True},
            "missing_required_header": {"enabled": True},
            "positive_data_acceptance": {"enabled": False},
            "unsupported_method": {"enabled": False},
        },
    })



class Stack:
    def __init__(self, base_url: str, tokens: dict[Role, str], server_log: Path):
        self.base_url, self.tokens, self.server_log = base_url, tokens, server_log

    def server_errors(self, lines: int = 40) -> str:
        """The end of the server's log (JSON lines, WARNING and up): the traceback behind a 5xx."""
        tail = self.server_log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(tail) or "(the server logged nothing)"

    def token_for(self, method: str, path: str) -> str | None:
        security = DOCUMENT["paths"][path][method.lower()]["security"]
        if not security:
            return None
        requirement = security[0]
        return self.tokens[Role.CITIZEN if openapi.BEARER in requirement else Role(requirement[openapi.CLIENT][0])]


def _wait_until_serving(base_url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"chalice local exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"chalice local did not answer on {base_url} within {timeout}s") from None
            time.sleep(0.1)


def _client_token(base_url: str, role: Role, province: str | None = None, area: str | None = None) -> str:
    from chalicelib.services.sessions import create_client

    created = create_client(role, f"fuzz {role.value}", province=province, area=area)
    response = requests.post(f"{base_url}/v1/oauth/token", auth=(created["client_id"], created["client_secret"]),
                             data={"grant_type": "client_credentials"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def stack(dynamodb: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from chalicelib.store import dynamo

    prefix = f"fz{secrets.token_hex(3)}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HEALTHCODE_TABLE_PREFIX": prefix, "HEALTHCODE_LOG_LEVEL": "WARNING"}
    server_log = tmp_path_factory.mktemp("fuzz") / "server.log"
    with server_log.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "tests.fuzz_server", str(port)], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    previous = app_settings._override
    try:
        bootstrap.bootstrap(dynamo.client(), prefix)  # while the server starts
        _wait_until_serving(base_url, process)
        app_settings.override(table_prefix=prefix)  # the clients go into the server's tables
        tokens = {role: _client_token(base_url, role, province=province, area=area) for role, province, area in (
            (Role.CHECKPOINT, None, "440106"), (Role.PROVINCE, "44", None), (Role.HEALTH_AUTHORITY, "51", None))}
        app_settings._override = previous
        login = requests.post(f"{base_url}/v1/sessions", timeout=30, json={"self_asserted": {
            "name": people.name(), "id_number": people.in_province("51"), "phone": people.phone()}})
        assert login.status_code == 201, login.text
        tokens[Role.CITIZEN] = login.json()["access_token"]
        citizen = {"Authorization": f"Bearer {tokens[Role.CITIZEN]}"}
        # some state, so reads answer 200 with a body to check rather than only 404s
        applied = requests.post(f"{base_url}/v1/codes", headers=citizen, timeout=30, json={
            "temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
            "current_area": "510104"})
        assert applied.status_code == 201, applied.text
        yield Stack(base_url, tokens, server_log)
    finally:
        app_settings._override = previous
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def describe(label: str, check: str, info: Any, limit: int = 1500) -> str:
    def cut(text: str) -> str:
        return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"

    return f"{label}: {check}\n{cut(str(info.failure))}\n{cut(info.code_sample)}"


def test_every_operation_conforms(stack: Stack) -> None:
    from schemathesis.engine import Status, from_schema
    from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished

    schema = schemathesis.openapi.from_dict(DOCUMENT, config=configuration(stack.base_url))

    @schema.auth(refresh_interval=None)
    class RoleToken:
        def get(self, case: Any, context: Any) -> str | None:
            return stack.token_for(case.operation.method, case.operation.path)

        def set(self, case: Any, data: str | None, context: Any) -> None:
            if data:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    cases: Counter[str] = Counter()  # requests sent, by operation
    failures, errors = [], []
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished) and event.label:
            cases[event.label] += len(event.recorder.interactions)
            if event.status == Status.FAILURE:
                for checks in event.recorder.checks.values():
                    failures += [describe(event.label, c.name, c.failure_info) for c in checks if c.failure_info]
            elif event.status == Status.ERROR:
                errors.append(f"{event.label}: error")
        elif isinstance(event, (NonFatalError, FatalError)):
            errors.append(str(getattr(event, "info", event)))
        elif isinstance(event, EngineFinished):
            print(f"\nschemathesis: {sum(cases.values())} cases over {len(cases)} operations in "
                  f"{time.monotonic() - started:.1f}s")
    assert not errors, "\n\n".join(errors) + "\n\nserver log:\n" + stack.server_errors()
    assert not failures, "\n\n".join(dict.fromkeys(failures)) + "\n\nserver log:\n" + stack.server_errors()
    operations = {f"{method} {path}" for method, path in OPERATIONS}
    assert set(cases) == operations, sorted(operations - set(cases))  # every operation of the document
    assert sum(cases.values()) >= MIN_CASES, cases


# --- each class of bad input the document cannot describe, generated, over the same HTTP server --------------------
# schemathesis generates from the document; these are the inputs behind issue 15 that a schema cannot express:
# token headers of any JSON type, ids and cursors past DynamoDB's key limits, key material that is no point,
# URLs no request can go to, and identifiers that carry an ID number. Each answer must be a documented refusal.

BAD_INPUT = settings(max_examples=max(EXAMPLES, 50), deadline=None, derandomize=SEED is None,  # 50: a few seconds
                     database=None, suppress_health_check=list(HealthCheck))
REFUSAL_REASONS = {"malformed", "bad_signature", "unknown_key", "expired", "unknown_code", "revoked",
                   "unknown_province", "key_revoked", "key_expired", "key_not_yet_valid"}  # docs/errors.md
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
long_ids = st.builds(lambda prefix, n, c: prefix + c * n, st.sampled_from(["wh_", "cor_", "evt_", "", "44"]),
                     st.integers(0, 3000), st.sampled_from(["a", "0", "数"]))
any_ids = st.one_of(long_ids, st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: Any) -> str:
    return _b64url(json.dumps(value).encode())


def _call(stack: Stack, method: str, path: str, role: Role | None = None, **options: Any) -> requests.Response:
    headers = {"Connection": "close", **options.pop("headers", {})}
    if role is not None:
        headers["Authorization"] = f"Bearer {stack.tokens[role]}"
    return requests.request(method, stack.base_url + path, headers=headers, timeout=30, **options)


def _refused(response: requests.Response, statuses: set[int], codes: set[str] | None = None) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and (codes is None or error["code"] in codes), error
    return error


# six independent scenarios, each simple, sharing one subscription: mccabe counts them as one function
def test_each_class_of_bad_input_is_a_documented_refusal(stack: Stack) -> None:  # noqa: C901
    subject = jwt.decode(stack.tokens[Role.CITIZEN], options={"verify_signature": False})["sub"]
    hook = _call(stack, "POST", "/v1/webhooks", Role.PROVINCE, json={
        "url": "http://127.0.0.1:9/hooks", "event_types": ["exposure.published"]}).json()

    @BAD_INPUT
    @given(kid=json_values, alg=st.sampled_from(["ES256", "EdDSA", "none", "HS256", 7]),
           iss=st.one_of(st.none(), st.text(max_size=30), st.integers(0, 2000).map(lambda n: "province:" + "4" * n)),
           sub=st.one_of(st.text(max_size=30), st.integers(0, 900).map(lambda n: "s" * n), st.integers()))
    def token_headers_and_claims(kid: Any, alg: Any, iss: Any, sub: Any) -> None:
        claims = {"sub": sub, "exp": int(time.time()) + 60, **({"iss": iss} if iss is not None else {})}
        token = f"{_segment({'alg': alg, 'kid': kid})}.{_segment(claims)}.{_b64url(b'x' * 64)}"
        response = _call(stack, "POST", "/v1/verifications", Role.CHECKPOINT,
                         json={"token": token, "checkpoint_id": "fuzz-gate"})
        if len(token) > 4096:
            _refused(response, {422}, {"validation_failed"})
            return
        assert response.status_code == 200, (response.status_code, response.text[:300])
        assert response.json()["valid"] is False and response.json()["reason"] in REFUSAL_REASONS, response.json()

    @BAD_INPUT
    @given(any_ids)
    def ids_in_paths(value: str) -> None:
        segment = quote(value, safe="")
        unknown = {"unknown_webhook", "unknown_delivery", "unknown_correction", "unknown_province", "not_found"}
        for method, path, role in (
                ("GET", f"/v1/webhooks/{segment}", Role.PROVINCE),
                ("POST", f"/v1/webhooks/{segment}/ping", Role.PROVINCE),
                ("GET", f"/v1/webhooks/{segment}/deliveries", Role.PROVINCE),
                ("POST", f"/v1/webhooks/{hook['id']}/deliveries/{segment}/replay", Role.PROVINCE),
                ("GET", f"/v1/corrections/{segment}", Role.HEALTH_AUTHORITY),
                ("GET", f"/v1/corrections/{segment}/history", Role.HEALTH_AUTHORITY),
                ("GET", f"/v1/provinces/{segment}/keys", None)):
            _refused(_call(stack, method, path, role), {404}, unknown)

    @BAD_INPUT
    @given(st.sampled_from([("/v1/me/history", "pk", subject, Role.CITIZEN),
                            ("/v1/me/lookups", "pk", subject, Role.CITIZEN),
                            ("/v1/trips", "pk", subject, Role.CITIZEN),
                            (f"/v1/webhooks/{hook['id']}/deliveries", "pk", hook["id"], Role.PROVINCE),
                            ("/v1/corrections", "person", subject, Role.CITIZEN),
                            ("/v1/corrections?status=pending", "queue_key", "51#pending", Role.HEALTH_AUTHORITY)]),
           st.dictionaries(st.sampled_from(["sk", "pk", "queue_sort", "person"]),
                           st.one_of(st.text(max_size=40), long_ids.map(lambda s: s[:300]), json_values), max_size=3))
    def cursors_with_any_key(listing: tuple[str, str, str, Role], rest: dict[str, Any]) -> None:
        path, partition, expected, role = listing
        cursor = base64.urlsafe_b64encode(json.dumps({**rest, partition: expected}).encode()).decode()
        response = _call(stack, "GET", path, role, params={"cursor": cursor})
        if response.status_code != 200:
            _refused(response, {422}, {"validation_failed"})

    kids = iter(range(10**6))

    @BAD_INPUT
    @given(st.sampled_from([("EC", "P-256"), ("OKP", "Ed25519")]),
           st.one_of(st.text(max_size=60), st.binary(min_size=0, max_size=40).map(_b64url)),
           st.one_of(st.none(), st.text(max_size=60), st.binary(min_size=0, max_size=40).map(_b64url)))
    def key_material(curve: tuple[str, str], x: str, y: str | None) -> None:
        jwk = {"kty": curve[0], "crv": curve[1], "kid": f"fz-{next(kids)}", "x": x, **({"y": y} if y else {})}
        response = _call(stack, "PUT", "/v1/provinces/44/keys", Role.PROVINCE, json={"keys": [jwk]})
        if response.status_code != 200:
            _refused(response, {422}, {"validation_failed"})

    @BAD_INPUT
    @given(st.sampled_from(["http", "https", "ftp", ""]),
           st.one_of(st.sampled_from(["127.0.0.1", "[::1]", "[::1", "localhost", "", "127.0.0.1\x00"]),
                     st.text(max_size=12)),
           st.one_of(st.just(""), st.integers(-5, 200_000).map(lambda p: f":{p}"),
                     st.text(max_size=6).map(":{}".format)),
           st.text(max_size=20))
    def webhook_urls(scheme: str, host: str, port: str, path: str) -> None:
        url = f"{scheme}://{host}{port}/{path}"
        response = _call(stack, "POST", "/v1/webhooks", Role.PROVINCE,
                         json={"url": url, "event_types": ["exposure.published"]})
        if response.status_code == 201:  # a URL a request can go to; not kept (a province holds at most 20)
            assert _call(stack, "DELETE", f"/v1/webhooks/{response.json()['id']}", Role.PROVINCE).status_code == 204
        else:
            _refused(response, {422}, {"validation_failed"})

    @BAD_INPUT
    @given(st.sampled_from(divisions.all_counties()), st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)),
           st.integers(0, 999), st.text("abcXYZ019_-.:", max_size=20), st.text("abcXYZ019_-.:", max_size=20),
           st.booleans())
    def id_numbers_inside_identifiers(area: str, born: dt.date, sequence: int, before: str, after: str,
                                      lower: bool) -> None:
        first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
        number = first17 + check_character(first17)
        inside = before + (number.lower() if lower else number) + after
        record = {"id_number": people.in_province("44"), "color": "green", "local_code_id": inside,
                  "issued_at": int(time.time()) - 60, "updated_at": int(time.time()) - 60, "version": 1}
        response = _call(stack, "POST", "/v1/sync/local-codes", Role.PROVINCE,
                         json={"province": "44", "records": [record]})
        error = _refused(response, {422}, {"validation_failed"})
        assert [(d["field"], d["type"]) for d in error["details"]] == [("records.0.local_code_id",
                                                                         "contains_id_number")], error
        assert number not in response.text and number.lower() not in response.text

    for check in (token_headers_and_claims, ids_in_paths, cursors_with_any_key, key_material, webhook_urls,
                  id_numbers_inside_identifiers):
        try:
            check()
        except AssertionError as failure:
            raise AssertionError(f"{check.__name__}: {failure}\n\nserver log:\n{stack.server_errors()}") from None
