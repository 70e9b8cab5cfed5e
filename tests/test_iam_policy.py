"""The hand-written stage policies (.chalice/policy-dev.json, policy-prod.json) allow exactly what the code calls.

Every AWS call of the session is recorded (tests/aws_calls.py, installed by conftest) with who would make it
in AWS; the calls made inside the Lambda entry points are checked here against each stage's policy:

- every one of them is allowed;
- on the data tables of infra/template.json the policy allows nothing more: per table and per index,
  the set of DynamoDB actions allowed equals the set used;
- beyond the tables it grants only what the platform itself needs and the tests cannot see being
  called: the Lambda service reading the streams that trigger functions, the runtime writing
  logs, and (prod) reading the secrets bundle.

Judging "nothing more" needs the calls of the whole suite, so this module runs last (conftest sorts it
there). Run on its own, or with only some test files, it runs the whole suite once in a subprocess to
get them (about as long as `make test`). The first tests below drive Lambda code paths that no other
test takes, so that the recording covers every call the code can make.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock, settings
from chalicelib.domain import days
from chalicelib.security.access import Role
from chalicelib.store import dynamo, people
from infra import bootstrap
from infra.local.pump import scheduled_event
from tests import aws_calls
from tests.aws_calls import Call, Policy
from tests.conftest import auth, client_token, dump

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("dev", "prod")
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


# --- Lambda code paths the rest of the suite does not take ---------------------------------------------

def test_a_failed_idempotent_request_releases_its_key(client, citizen):
    person = citizen()
    headers = {**person.headers, "Idempotency-Key": "trip-1"}
    future = days.today(clock.now()) + dt.timedelta(days=2)
    trip = {"date": future.isoformat(), "origin": "510104", "destination": "440106", "mode": "car"}
    refused = client.post("/v1/trips", headers=headers, body=dump(trip))
    assert refused.status_code == 422, refused.json_body
    # the key was released: the corrected request under the same key runs, it is not "key reused"
    trip["date"] = (future - dt.timedelta(days=3)).isoformat()
    declared = client.post("/v1/trips", headers=headers, body=dump(trip))
    assert declared.status_code == 201, declared.json_body


def test_a_province_deletes_its_webhook(client):
    headers = auth(client_token(client, Role.PROVINCE, province="45"))
    created = client.post("/v1/webhooks", headers=headers, body=dump(
        {"url": "http://127.0.0.1:9/hooks", "event_types": ["area.level_changed"], "description": "gone soon"}))
    assert created.status_code == 201, created.json_body
    hook = created.json_body["id"]
    assert client.delete(f"/v1/webhooks/{hook}", headers=headers).status_code == 204
    assert client.get(f"/v1/webhooks/{hook}", headers=headers).status_code == 404
    unknown = client.post(f"/v1/webhooks/{hook}/deliveries/evt_unknown/replay", headers=headers)
    assert unknown.status_code == 404


def test_replaying_a_delivery_that_does_not_exist(client):
    headers = auth(client_token(client, Role.PROVINCE, province="46"))
    created = client.post("/v1/webhooks", headers=headers, body=dump(
        {"url": "http://127.0.0.1:9/hooks", "event_types": ["area.level_changed"]}))
    assert created.status_code == 201, created.json_body
    nothing = "evt_" + "0" * 23   # of the shape of a delivery id, so that it is looked up
    replayed = client.post(f"/v1/webhooks/{created.json_body['id']}/deliveries/{nothing}/replay", headers=headers)
    assert replayed.status_code == 404 and replayed.json_body["error"]["code"] == "unknown_delivery"


def test_the_sweeper_clears_a_due_moment_that_changes_nothing(client, citizen, app_module):
    person = citizen()
    applied = person.apply()
    assert applied.status_code == 201, applied.json_body
    code_id, version = applied.json_body["code_id"], applied.json_body["version"]
    # a stale due moment (the reason it was set for was replaced since): the sweeper finds the code,
    # recomputes nothing new, and clears the moment without writing a new version
    people.reschedule(code_id, version, clock.now() - 60)
    app_module.sweeper(scheduled_event(), None)
    record = dynamo.get("people", {"pk": code_id}, consistent=True)
    assert record["version"] == version and "due_at" not in record and "due_day" not in record


# --- the checks ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lambda_calls(tmp_path_factory: pytest.TempPathFactory) -> set[Call]:
    if aws_calls.Session.full and not aws_calls.Session.deselected:
        return aws_calls.RECORDER.lambda_calls()
    if os.environ.get("HEALTHCODE_AWS_CALLS_OUT"):
        pytest.fail("a recording subprocess did not run the whole suite")
    out = tmp_path_factory.mktemp("aws-calls") / "calls.json"
    env = {**os.environ, "HEALTHCODE_AWS_CALLS_OUT": str(out)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests")],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and out.exists(), (
        "the whole suite, run to record every AWS call, failed:\n" + run.stdout[-4000:] + run.stderr[-2000:])
    return {c for c in aws_calls.Recorder.load(out, settings.get_settings().table_prefix) if c.who == "lambda"}


def stage_env(stage: str) -> dict[str, str]:
    return CONFIG["stages"][stage]["environment_variables"]


def policy(stage: str) -> Policy:
    name = CONFIG["stages"][stage]["iam_policy_file"]
    assert CONFIG["stages"][stage]["autogen_policy"] is False
    return Policy.load(ROOT / ".chalice" / name)


def data_tables() -> dict[str, list[str]]:
    """kind (the name after the prefix) -> its global secondary indexes, from infra/template.json."""
    found = {}
    for props in bootstrap.table_resources().values():
        kind = props["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}-")
        found[kind] = [g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])]
    return found


def kind_of(resource: str) -> str:
    """'kind' or 'kind/index/name' of a recorded table resource, whatever test prefix it carried: a test that
    builds a stage of its own (tests/test_emergency_end.py) runs the same Lambda code on tables of its own prefix."""
    prefix, _, kind = resource.partition("-")
    assert prefix and kind.split("/", 1)[0] in data_tables(), resource
    return kind


def stage_arn(call: Call, stage: str) -> str:
    """The ARN a recorded call would act on in the stage's account (test table names -> stage names)."""
    if call.action.startswith("dynamodb:"):
        return aws_calls.table_arn(f"{stage_env(stage)['HEALTHCODE_TABLE_PREFIX']}-{kind_of(call.resource)}")
    if call.action.startswith("secretsmanager:"):
        return aws_calls.secret_arn(stage_env(stage)["HEALTHCODE_SECRET_ID"])
    return call.resource


def used_per_table(calls: set[Call]) -> dict[str, set[str]]:
    """'kind' or 'kind/index/name' -> DynamoDB actions the Lambda code used on it."""
    used: dict[str, set[str]] = collections.defaultdict(set)
    for call in calls:
        if call.action.startswith("dynamodb:"):
            used[kind_of(call.resource)].add(call.action)
    return used


# every DynamoDB action that can name a table or an index; a grant of any other would show up below
TABLE_ACTIONS = sorted(f"dynamodb:{a}" for a in (
    "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan",
    "UpdateItem", "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete", "CreateTable", "DeleteTable",
    "DescribeTable", "UpdateTable", "DescribeTimeToLive", "UpdateTimeToLive", "DescribeContinuousBackups",
    "UpdateContinuousBackups", "CreateBackup", "RestoreTableFromBackup", "RestoreTableToPointInTime",
    "ExportTableToPointInTime", "ImportTable", "TagResource", "UntagResource", "ListTagsOfResource",
    "DescribeKinesisStreamingDestination", "EnableKinesisStreamingDestination", "GetResourcePolicy",
    "PutResourcePolicy", "DeleteResourcePolicy"))
STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


def test_the_recording_saw_the_lambda_code_at_work(lambda_calls):
    used = used_per_table(lambda_calls)
    # a broken recorder (no hook, or every call attributed to "local") would make the checks below vacuous
    assert {"people", "scans", "trips", "events", "deliveries"} <= set(used), sorted(used)
    assert all(c.who == "lambda" for c in lambda_calls)
    # prod's secret read (tests/test_deployment.py, Secrets Manager stubbed) is among them
    assert {c.action for c in lambda_calls if c.service == "secretsmanager"} == {"secretsmanager:GetSecretValue"}


@pytest.mark.parametrize("stage", STAGES)
def test_every_call_the_code_makes_is_allowed(stage, lambda_calls):
    rules = policy(stage)
    # a stage without a secret id (dev) reads generated files: Secrets Manager calls cannot happen there
    possible = {c for c in lambda_calls if c.service != "secretsmanager" or "HEALTHCODE_SECRET_ID" in stage_env(stage)}
    refused = sorted({(c.action, stage_arn(c, stage)) for c in possible
                      if not rules.allows(c.action, stage_arn(c, stage))})
    assert not refused, f".chalice/{CONFIG['stages'][stage]['iam_policy_file']} does not allow: {refused}"


def triggered_tables(app_module: Any) -> set[str]:
    """Kinds of the tables whose streams trigger a function (app.py's `on_dynamodb_record` handlers)."""
    from infra import package

    names = {name: props["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}-")
             for name, props in bootstrap.table_resources().items()}
    return {names[table] for table in package.stream_triggers(app_module.app).values()}


@pytest.mark.parametrize("stage", STAGES)
def test_the_data_tables_grant_exactly_what_the_code_uses(stage, lambda_calls, app_module):
    rules = policy(stage)
    prefix = stage_env(stage)["HEALTHCODE_TABLE_PREFIX"]
    used = used_per_table(lambda_calls)
    problems = []
    for kind, indexes in data_tables().items():
        targets = {kind: aws_calls.table_arn(f"{prefix}-{kind}")}
        targets.update({f"{kind}/index/{i}": aws_calls.table_arn(f"{prefix}-{kind}/index/{i}") for i in indexes})
        targets[f"{kind}/index/<any other>"] = aws_calls.table_arn(f"{prefix}-{kind}/index/not-an-index")
        for name, arn in targets.items():
            allowed = {a for a in TABLE_ACTIONS if rules.allows(a, arn)}
            wanted = used.get(name, set())
            if allowed - wanted:
                problems.append(f"{name}: allows {sorted(allowed - wanted)} that the code never calls")
            if wanted - allowed:
                problems.append(f"{name}: the code calls {sorted(wanted - allowed)}, not allowed")
        stream = aws_calls.stream_arn(f"{prefix}-{kind}")
        streams = {a for a in STREAM_ACTIONS if rules.allows(a, stream)}
        expected = set(STREAM_ACTIONS) if kind in triggered_tables(app_module) else set()
        if streams != expected:
            problems.append(f"{kind} stream: allows {sorted(streams)}, expected {sorted(expected)} "
                            "(the streams that trigger a function of app.py, and no others)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stage", STAGES)
def test_beyond_the_tables_only_what_the_platform_needs(stage, app_module):
    rules = policy(stage)
    env = stage_env(stage)
    prefix = env["HEALTHCODE_TABLE_PREFIX"]
    def on_tables(statement: dict[str, Any]) -> bool:  # judged table by table by the test above
        return all(r.startswith(f"arn:*:dynamodb:*:*:table/{prefix}-") and "/stream/" not in r
                   for r in aws_calls._listify(statement["Resource"]))

    grants = {(a, r) for s in rules.statements if not on_tables(s)
              for a in aws_calls._listify(s["Action"]) for r in aws_calls._listify(s["Resource"])}
    expected = {
        # the Lambda service reads the triggering tables' streams with the function's role
        *((a, f"arn:*:dynamodb:*:*:table/{prefix}-{kind}/stream/*")
          for a in STREAM_ACTIONS for kind in triggered_tables(app_module)),
        # ListStreams cannot be scoped to a resource; it names streams, reads no data
        ("dynamodb:ListStreams", "*"),
        # the Lambda runtime writes each function's logs (and EMF metrics) to its own log group
        *((a, f"arn:*:logs:*:*:log-group:/aws/lambda/{prefix}{tail}")
          for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents") for tail in ("*", "*:*")),
    }
    if stage == "prod":
        # chalicelib/security/keyring.py reads the bundle (Secrets Manager adds 6 characters to the name)
        secret = f"arn:*:secretsmanager:*:*:secret:{env['HEALTHCODE_SECRET_ID']}-??????"
        expected.add(("secretsmanager:GetSecretValue", secret))
    else:
        assert "HEALTHCODE_SECRET_ID" not in env  # dev reads generated local files
    assert grants == expected
