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
missing must be refused. Generation is derandomized, so a run is reproducible: about 3,300 requests in
20-30 s. HEALTHCODE_FUZZ_EXAMPLES (default 50 per operation and phase) scales it up and HEALTHCODE_FUZZ_SEED
makes it random with that seed, for a longer hunt (docs/api.md).

Not checked: positive_data_acceptance, because the document cannot express the semantic rules
(ID-number check digits, GB/T 2260 division codes, flight-number shapes, date windows) that make most
schema-valid generated data a correct 422; unsupported_method (and the coverage phase's undeclared
methods), because an undeclared method never reaches the app: API Gateway answers it in prod (403), and
chalice local's HTTP server here (501 for TRACE); the stateful phase (the document declares no links).
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

import app as application
from chalicelib import settings
from chalicelib.api import openapi
from chalicelib.security.access import Role
from infra.local import bootstrap
from infra.local.dynamodb_local import free_port
from tests import people

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("HEALTHCODE_FUZZ_EXAMPLES", "50"))
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
    previous = settings._override
    try:
        bootstrap.bootstrap(dynamo.client(), prefix)  # while the server starts
        _wait_until_serving(base_url, process)
        settings.override(table_prefix=prefix)  # the clients go into the server's tables
        tokens = {role: _client_token(base_url, role, province=province, area=area) for role, province, area in (
            (Role.CHECKPOINT, None, "440106"), (Role.PROVINCE, "44", None), (Role.HEALTH_AUTHORITY, "51", None))}
        settings._override = previous
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
        settings._override = previous
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
