"""The local stack a bench run owns: DynamoDB Local on a scratch database, a test-stage environment, the API harness
and the app's event sources (the local pump).

The environment is the one tests/conftest.py sets: stage "test", a unique table
prefix, a temporary secrets directory and dummy AWS credentials. Citizens and the
checkpoint client are created through the HTTP API, as the platform's users would.
"""
from __future__ import annotations

import itertools
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib import settings  # noqa: E402
from infra import bootstrap  # noqa: E402
from infra.local.dynamodb_local import DynamoDBLocal  # noqa: E402

JSON_HEADERS = {"Content-Type": "application/json"}
DECLARATION = {"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
               "stayed_in_high_risk_area": False, "current_area": "510104"}


@dataclass
class Stack:
    ddb: DynamoDBLocal
    prefix: str
    secrets_dir: str
    started_in_s: float


@contextmanager
def local_stack(in_memory: bool = False) -> Iterator[Stack]:
    t0 = time.perf_counter()
    with DynamoDBLocal(in_memory=in_memory) as ddb, tempfile.TemporaryDirectory(prefix="healthcode-bench-") as tmp:
        started = time.perf_counter() - t0
        prefix = f"b{secrets.token_hex(3)}"
        secrets_dir = str(Path(tmp) / "secrets")
        os.environ.update({
            "HEALTHCODE_STAGE": "test",
            "HEALTHCODE_DYNAMODB_ENDPOINT": ddb.endpoint,
            "HEALTHCODE_TABLE_PREFIX": prefix,
            "HEALTHCODE_SECRETS_DIR": secrets_dir,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "cn-north-1",
        })
        for inherited in ("AWS_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN", "HEALTHCODE_SECRET_ID"):
            os.environ.pop(inherited, None)
        settings.reset()
        from chalicelib.security import keyring
        from chalicelib.store import dynamo

        keyring.reload()  # this stack's own keys, not a previous stack's still cached
        bootstrap.bootstrap(dynamo.client(), prefix)
        yield Stack(ddb, prefix, secrets_dir, started)


def _logs_to_devnull() -> None:
    """Keep the app's per-request log lines (where it writes them) out of the bench's output.

    They are still formatted and written, as in production, only to os.devnull: the console
    handlers the app installed on the root logger keep their formatter and get a new stream.
    """
    import logging

    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.stdout):
            handler.setStream(devnull)


def endpoint() -> str:
    return os.environ["HEALTHCODE_DYNAMODB_ENDPOINT"]


def http_client() -> Any:
    """The Chalice test client's HTTP side for the app at the repo root, stage "test"."""
    from chalice.test import Client

    import app

    _logs_to_devnull()
    return Client(app.app, stage_name="test", project_dir=str(ROOT)).http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def dump(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


@dataclass
class Citizen:
    headers: dict[str, str]
    code_id: str
    qr_token: str = ""


def new_citizen(http: Any, apply: bool = True) -> Citizen:
    """A generated person who logs in, applies for a code and fetches its QR token."""
    from tests import people

    identity = {"name": people.name(), "id_number": people.id_number(), "phone": people.phone()}
    with own_address():
        response = http.post("/v1/sessions", headers=JSON_HEADERS, body=dump({"self_asserted": identity}))
    if response.status_code != 201:
        raise RuntimeError(f"POST /v1/sessions: {response.status_code} {response.json_body}")
    citizen = Citizen(auth(response.json_body["access_token"]), "")
    if apply:
        applied = http.post("/v1/codes", headers=citizen.headers, body=dump(DECLARATION))
        if applied.status_code not in (200, 201):
            raise RuntimeError(f"POST /v1/codes: {applied.status_code} {applied.json_body}")
        citizen.code_id = applied.json_body["code_id"]
        refresh_qr(http, citizen)
    return citizen


_logins = itertools.count()


@contextmanager
def own_address() -> Iterator[None]:
    """A request from an address of its own in 198.18.0.0/15, the range RFC 2544 keeps for benchmarks: a pool
    of hundreds of citizens logging in within a minute from chalice.test's one address would meet the
    sessions_per_address limit (docs/limits.md)."""
    from chalice.local import LambdaEventConverter

    n = next(_logins) % (2 * 65536)
    before = LambdaEventConverter.LOCAL_SOURCE_IP
    LambdaEventConverter.LOCAL_SOURCE_IP = f"198.{18 + n // 65536}.{n // 256 % 256}.{n % 256}"
    try:
        yield
    finally:
        LambdaEventConverter.LOCAL_SOURCE_IP = before


def refresh_qr(http: Any, citizen: Citizen) -> None:
    response = http.get("/v1/codes/me/qr?format=text", headers=citizen.headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/codes/me/qr: {response.status_code} {response.json_body}")
    citizen.qr_token = response.json_body["token"]


@dataclass
class Pool:
    """Citizens who applied, with QR tokens young enough to verify (the QR TTL is minutes)."""
    http: Any
    citizens: list[Citizen]
    issued_at: float = field(default_factory=time.monotonic)

    @classmethod
    def create(cls, http: Any, size: int) -> Pool:
        return cls(http, [new_citizen(http) for _ in range(size)])

    @property
    def tokens(self) -> list[str]:
        return [c.qr_token for c in self.citizens]

    def keep_fresh(self, max_age_s: float = 90.0) -> bool:
        """Re-issue every QR token when they are older than max_age_s; True if it did."""
        if time.monotonic() - self.issued_at < max_age_s:
            return False
        for citizen in self.citizens:
            refresh_qr(self.http, citizen)
        self.issued_at = time.monotonic()
        return True


def client_headers(http: Any, role: Any, name: str, province: str | None = None,
                   area: str | None = None) -> dict[str, str]:
    """A system client (created as ops would) that logs in with client credentials."""
    from chalicelib.services.sessions import create_client

    created = create_client(role, name, province=province, area=area)
    response = http.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=f"grant_type=client_credentials&client_id={created['client_id']}"
                              f"&client_secret={created['client_secret']}")
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/oauth/token: {response.status_code} {response.json_body}")
    return auth(response.json_body["access_token"])


def checkpoint_headers(http: Any, area: str = "440106") -> dict[str, str]:
    from chalicelib.security.access import Role

    return client_headers(http, Role.CHECKPOINT, "bench gate", area=area)


# --- the app's event sources, as Lambda runs them ----------------------------------------------------

def pump() -> Any:
    """The local pump for the app (infra/local/pump.py), reading on from the end of its streams: what the
    setup wrote before is not part of what is measured."""
    import app
    from chalicelib.settings import get_settings
    from chalicelib.store import dynamo
    from infra.local import pump as pumps

    return pumps.for_app(app, dynamo.client(), dynamo.streams_client(), get_settings().table_prefix).start_at_latest()


@contextmanager
def pump_running(poll_seconds: float = 0.05) -> Iterator[Any]:
    """The pump in the background, a thread per stream as Lambda runs each mapping, beside the API; stopped
    on leaving. Its own thread (the schedules: sweeper, webhook retries) is named `bench-pump`."""
    running = pump()
    runner = threading.Thread(target=running.run_forever, kwargs={"poll_seconds": poll_seconds}, daemon=True,
                              name="bench-pump")
    runner.start()
    try:
        yield running
    finally:
        running.stop()
        runner.join(timeout=35)   # run_forever waits up to 30 s for each stream's thread


@dataclass(frozen=True)
class UnitRun:
    kind: str                 # area, voyage, people (chalicelib/events/fanout.py)
    params: dict[str, Any]
    written: int              # codes given a new version
    continues: bool           # it left work over and wrote its continuation
    began: float              # time.time()
    ended: float


@contextmanager
def units_run() -> Iterator[list[UnitRun]]:
    """Every fan-out unit run while inside, in whichever thread: the runners of events/fanout.py wrapped."""
    from chalicelib.events import fanout

    runs: list[UnitRun] = []
    originals = dict(fanout.RUNNERS)

    def watched(kind: str, runner: Any) -> Any:
        def run(unit: Any, now: int) -> tuple[int, dict[str, Any] | None]:
            began = time.time()
            written, cursor = runner(unit, now)
            runs.append(UnitRun(kind, dict(unit.params), written, cursor is not None, began, time.time()))
            return written, cursor
        return run

    fanout.RUNNERS.update({kind: watched(kind, runner) for kind, runner in originals.items()})
    try:
        yield runs
    finally:
        fanout.RUNNERS.update(originals)


def checkpoints(http: Any, verifications: int) -> list[dict[str, str]]:
    """Checkpoint clients enough for `verifications` verifications taken in turn, none of which verifies
    more in the whole run than its limit allows in a minute (docs/limits.md): however fast the machine,
    the bench measures verifications, not refusals. The limit's own cost is measured all the same."""
    from chalicelib.domain.limits import VERIFICATIONS_PER_CHECKPOINT as limit

    usable = limit.count - limit.flush_every
    return [checkpoint_headers(http) for _ in range(max(1, -(-verifications // usable)))]
