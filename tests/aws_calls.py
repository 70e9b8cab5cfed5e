"""Record every AWS API call made while the tests run, and check IAM policies against them.

`install()` (tests/conftest.py calls it once per session) wraps botocore's
`Session.create_client` (and the botocore-free `chalicelib.store.wire.Wire.call`), so every client anyone
builds — the DynamoDB and Streams clients of chalicelib/store/dynamo.py, a Secrets Manager client, the
ops CLI's — gets a `before-parameter-build` hook. Each call is recorded as
(who, service, operation, resources), where `who` says whose credentials would
make it in AWS:

- "lambda": the call happened inside one of the Lambda entry points: a request
  dispatched by the Chalice app (chalice/app.py: routes, the split API
  functions, the stream and schedule handlers) or chalicelib/events/handlers.py
  (which only those handlers call; tests also call it directly);
- "ops": inside the ops command line (ops/cli.py);
- "local": anything else (the local pump and table bootstrap, test set-up and
  assertions), which never runs in Lambda.

Only "lambda" calls are checked against the stage policies in .chalice/.
"""
from __future__ import annotations

import fnmatch
import json
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "cn-north-1"
PARTITION = "aws-cn"

_CHALICE_APP = os.sep + os.path.join("chalice", "app.py")
_HANDLERS = str(ROOT / "chalicelib" / "events" / "handlers.py")
_OPS = str(ROOT / "ops")
_BOTO = (os.sep + "botocore" + os.sep, os.sep + "boto3" + os.sep)


@dataclass(frozen=True)
class Call:
    who: str                      # lambda | ops | local
    service: str                  # botocore service name: dynamodb, dynamodbstreams, secretsmanager
    operation: str                # e.g. PutItem
    action: str                   # the IAM action it needs, e.g. dynamodb:PutItem
    resource: str                 # what it acts on: a table name, "table/index/name", a secret id, or "*"


class Recorder:
    def __init__(self) -> None:
        self.calls: set[Call] = set()
        self.lock = threading.Lock()
        self.installed = False

    def lambda_calls(self) -> set[Call]:
        return {c for c in self.calls if c.who == "lambda"}

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        who = _who()
        found = {Call(who, service, operation, action, resource)
                 for action, resource in iam_requests(service, operation, params)}
        with self.lock:
            self.calls |= found

    def dump(self, path: str | os.PathLike, table_prefix: str) -> None:
        calls = [c.__dict__ for c in sorted(self.calls, key=repr)]
        Path(path).write_text(json.dumps({"table_prefix": table_prefix, "calls": calls}, indent=1))

    @staticmethod
    def load(path: str | os.PathLike, table_prefix: str) -> set[Call]:
        """The calls of another session, their table names moved to `table_prefix`."""
        data = json.loads(Path(path).read_text())
        theirs = data["table_prefix"] + "-"

        def moved(resource: str) -> str:
            return table_prefix + "-" + resource[len(theirs):] if resource.startswith(theirs) else resource
        return {Call(**{**c, "resource": moved(c["resource"])}) for c in data["calls"]}


RECORDER = Recorder()


_inherited = threading.local()   # `who` of the code that handed work to this pool thread


def _who() -> str:
    frame: Any = sys._getframe(1)
    outermost = "local"
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith(_CHALICE_APP) or name == _HANDLERS:
            return "lambda"
        if name.startswith(_OPS):
            outermost = "ops"
        frame = frame.f_back
    return getattr(_inherited, "who", None) or outermost


def _inherit_in_pools() -> None:
    """Work submitted to a ThreadPoolExecutor (webhook sends run 8 at a time) runs on a thread whose
    stack does not show who submitted it: carry that over."""
    from concurrent.futures import ThreadPoolExecutor

    original = ThreadPoolExecutor.submit

    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        who = _who()

        def run(*a: Any, **k: Any) -> Any:
            before = getattr(_inherited, "who", None)
            _inherited.who = who
            try:
                return fn(*a, **k)
            finally:
                _inherited.who = before
        return original(self, run, *args, **kwargs)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]  # recording who calls


def _record_wire_calls() -> None:
    """The verify hot path calls DynamoDB without botocore (chalicelib/store/wire.py): same record."""
    from chalicelib.store import wire

    original = wire.Wire.call

    def call(self: Any, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        RECORDER.record("dynamodb", operation, request)
        return original(self, operation, request)

    wire.Wire.call = call  # type: ignore[method-assign]  # recording the call


def iam_requests(service: str, operation: str, params: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """The (IAM action, resource) pairs one API call is authorised against."""
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table) for table in params.get("RequestItems", {})]
        if operation == "TransactWriteItems":
            # no IAM action of its own: each item needs its own action on its table
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem"}
            return [(f"dynamodb:{kinds[kind]}", body["TableName"])
                    for item in params.get("TransactItems", []) for kind, body in item.items()]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", item["Get"]["TableName"]) for item in params.get("TransactItems", [])]
        if "TableName" in params:
            table = params["TableName"]
            if params.get("IndexName"):
                table = f"{table}/index/{params['IndexName']}"
            return [(f"dynamodb:{operation}", table)]
        return [(f"dynamodb:{operation}", "*")]
    if service == "dynamodbstreams":
        return [(f"dynamodb:{operation}", params.get("StreamArn", "*"))]
    if service == "secretsmanager":
        return [(f"secretsmanager:{operation}", params.get("SecretId", "*"))]
    return [(f"{service}:{operation}", "*")]


def install() -> Recorder:
    """Hook every botocore client created from now on (idempotent)."""
    if RECORDER.installed:
        return RECORDER
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        service = client.meta.service_model.service_name

        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            RECORDER.record(service, model.name, params)

        client.meta.events.register("before-parameter-build", hook)  # this client's own emitter
        return client

    botocore.session.Session.create_client = create_client
    _record_wire_calls()
    _inherit_in_pools()
    RECORDER.installed = True
    return RECORDER


# --- policy evaluation -------------------------------------------------------------------------------

def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Policy:
    """A small IAM evaluator: Allow/Deny statements with Action and Resource wildcards.

    Anything it does not understand (NotAction, NotResource, Condition, Principal) makes it refuse
    the policy rather than guess: the stage policies are kept that simple on purpose.
    """

    SUPPORTED = {"Sid", "Effect", "Action", "Resource"}

    def __init__(self, document: dict[str, Any]):
        self.statements = _listify(document["Statement"])
        for statement in self.statements:
            unknown = set(statement) - self.SUPPORTED
            if unknown:
                raise ValueError(f"statement {statement.get('Sid')} uses {sorted(unknown)}; keep policies simple")
            if statement["Effect"] not in ("Allow", "Deny"):
                raise ValueError(f"bad Effect in {statement.get('Sid')}")

    @classmethod
    def load(cls, path: Path) -> Policy:
        return cls(json.loads(path.read_text()))

    @staticmethod
    def _match(pattern: str, value: str, case_sensitive: bool) -> bool:
        if not case_sensitive:
            pattern, value = pattern.lower(), value.lower()
        # IAM wildcards are * and ?; fnmatch's [...] has no IAM meaning, so escape it
        pattern = pattern.replace("[", "[[]")
        return fnmatch.fnmatchcase(value, pattern)

    def _matches(self, statement: dict[str, Any], action: str, arn: str) -> bool:
        return (any(self._match(a, action, False) for a in _listify(statement["Action"]))
                and any(self._match(r, arn, True) for r in _listify(statement["Resource"])))

    def allows(self, action: str, arn: str) -> bool:
        allowed = False
        for statement in self.statements:
            if self._matches(statement, action, arn):
                if statement["Effect"] == "Deny":
                    return False
                allowed = True
        return allowed

    def statements_for(self, action: str, arn: str) -> list[str]:
        return [s.get("Sid", "?") for s in self.statements if s["Effect"] == "Allow" and self._matches(s, action, arn)]


def table_arn(table: str) -> str:
    return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{table}"


def stream_arn(table: str) -> str:
    return f"{table_arn(table)}/stream/2026-01-01T00:00:00.000"


def secret_arn(secret_id: str) -> str:
    return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbC123"


# --- pytest hooks (imported by tests/conftest.py) ----------------------------------------------------

class Session:
    full = False          # every test module collected and nothing deselected
    deselected = 0


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    # tests/test_iam_policy.py judges the calls every other test made: it runs last
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", "") == "tests.test_iam_policy")
    modules = {Path(str(item.path)).resolve() for item in items}
    Session.full = modules >= set((ROOT / "tests").rglob("test_*.py"))


def pytest_deselected(items: list[Any]) -> None:
    Session.deselected += len(items)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    out = os.environ.get("HEALTHCODE_AWS_CALLS_OUT")
    if out and RECORDER.installed:
        from chalicelib.settings import get_settings

        RECORDER.dump(out, get_settings().table_prefix)
