"""One DynamoDB Local per test session (a scratch database, its own port), tables from infra/template.json.

Except for a session of the fast tier alone: modules marked `fast` (`pytestmark = pytest.mark.fast`: the pure
rules, the ID rules, the token code; `make test-fast`) run on the test stage's file-based secrets with no
database, so a session whose tests are all fast starts no Java (tests/test_fast_tier.py checks it).

Tables are created once and never dropped, and tests stay independent by using fresh
generated identities and clients instead of clearing tables. (Re-creating stream-enabled
tables used to slow DynamoDB Local down for the rest of the session; the index
infra/local/dynamodb_local.py adds to its stream records removed that, but dropping
tables would still throw away what a failing test leaves to look at.)
"""
from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalice.test import Client  # noqa: E402

from chalicelib import clock, settings  # noqa: E402
from chalicelib.security import keyring as platform_secrets  # noqa: E402
from chalicelib.security.access import Role  # noqa: E402
from infra import bootstrap  # noqa: E402
from infra.local.dynamodb_local import DynamoDBLocal  # noqa: E402
from tests import aws_calls, people  # noqa: E402
from tests.aws_calls import pytest_collection_modifyitems, pytest_deselected, pytest_sessionfinish  # noqa: E402,F401

aws_calls.install()  # records every AWS call of the session; tests/test_iam_policy.py checks them


@pytest.fixture(scope="session", autouse=True)
def test_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The test stage, its secrets in a scratch file, and no database yet: the endpoint is a port of ours that
    refuses every connection, so a fast test that reached for DynamoDB would fail, not pass."""
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))     # bound and never listening: a connection to it is refused
        os.environ.update({
            "HEALTHCODE_STAGE": "test",
            "HEALTHCODE_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{refusing.getsockname()[1]}",
            "HEALTHCODE_SECRETS_DIR": str(tmp_path_factory.mktemp("secrets")),
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "cn-north-1",
        })
        settings.reset()
        # a session run after another in the same process (mutmut runs several) must not sign with the last
        # session's keys until their copy is 5 minutes old, and then switch to this session's mid-test
        platform_secrets._bundle = None
        yield


@pytest.fixture(scope="session")
def dynamodb(test_stage: None) -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal() as ddb:
        prefix = f"t{secrets.token_hex(3)}"
        os.environ.update({"HEALTHCODE_DYNAMODB_ENDPOINT": ddb.endpoint, "HEALTHCODE_TABLE_PREFIX": prefix})
        settings.reset()
        from chalicelib.store import dynamo

        bootstrap.bootstrap(dynamo.client(), prefix)
        yield ddb


@pytest.fixture(scope="session", autouse=True)
def _database_unless_every_test_is_fast(request: pytest.FixtureRequest, test_stage: None) -> None:
    """DynamoDB Local starts first thing, as it always did, when the session holds one test that is not fast:
    session and module fixtures of those tests may reach for it before any test runs."""
    if any(item.get_closest_marker("fast") is None for item in request.session.items):
        request.getfixturevalue("dynamodb")


@pytest.fixture(scope="session")
def pump(dynamodb: DynamoDBLocal, app_module: Any) -> Any:
    """Lambda's event sources, locally: `pump.drain()` runs the stream handlers on what is pending."""
    from chalicelib.settings import get_settings
    from chalicelib.store import dynamo
    from infra.local import pump as pumps

    return pumps.for_app(app_module, dynamo.client(), dynamo.streams_client(),
                         get_settings().table_prefix).start_at_latest()


@pytest.fixture(autouse=True)
def _restore_clock_and_settings() -> Iterator[None]:
    yield
    clock.reset()
    settings._override = None


@pytest.fixture(scope="session")
def app_module() -> Any:
    import app

    return app


@pytest.fixture
def client(app_module: Any) -> Iterator[Any]:
    with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as chalice_client:
        yield chalice_client.http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


class Citizen:
    def __init__(self, http: Any, id_number: str, name: str):
        self.http, self.id_number, self.name = http, id_number, name
        response = http.post("/v1/sessions", headers={"Content-Type": "application/json"},
                             body=dump({"self_asserted": {"name": name, "id_number": id_number,
                                                          "phone": people.phone()}}))
        assert response.status_code == 201, response.json_body
        self.token = response.json_body["access_token"]
        self.headers = auth(self.token)

    def apply(self, **declaration: Any) -> Any:
        body = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                "stayed_in_high_risk_area": False, "current_area": "510104", **declaration}
        return self.http.post("/v1/codes", headers=self.headers, body=dump(body))

    def qr_token(self) -> str:
        response = self.http.get("/v1/codes/me/qr?format=text", headers=self.headers)
        assert response.status_code == 200, response.json_body
        return response.json_body["token"]


def dump(body: Any) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


@pytest.fixture
def citizen(client: Any) -> Callable[..., Citizen]:
    def make(id_number: str | None = None, name: str | None = None) -> Citizen:
        return Citizen(client, id_number or people.id_number(), name or people.name())
    return make


def client_token(http: Any, role: Role, province: str | None = None, area: str | None = None) -> str:
    from chalicelib.services.sessions import create_client

    created = create_client(role, f"test {role.value}", province=province, area=area)
    response = http.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=f"grant_type=client_credentials&client_id={created['client_id']}"
                              f"&client_secret={created['client_secret']}")
    assert response.status_code == 200, response.json_body
    return response.json_body["access_token"]


@pytest.fixture
def health_authority(client: Any) -> Callable[[str], dict[str, str]]:
    """Headers of a health authority client scoped to a province, e.g. health_authority("51")."""
    return lambda province: auth(client_token(client, Role.HEALTH_AUTHORITY, province=province))


@pytest.fixture
def checkpoint(client: Any) -> dict[str, str]:
    """Headers of a checkpoint client at a Guangzhou gate."""
    return auth(client_token(client, Role.CHECKPOINT, area="440106"))
