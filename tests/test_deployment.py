"""What the deployment relies on, checked without AWS: the split Lambda functions serve their routes
through the app, the merge template (infra/package.py) wires what it promises (every stream mapping
isolating failures included), the dead-delivery metric filter matches the log line the code writes, and
prod reads its secrets from Secrets Manager once per container.

`make package` builds and checks the real template (it needs the package index for Lambda wheels);
these tests cover the same wiring from the app's route table, in a second.
"""
from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from chalicelib import settings
from chalicelib.security import keyring
from chalicelib.security.access import Role
from infra import package
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver
from tests.test_webhooks import subscribe

ROUTES = package.FUNCTION_ROUTES


def gateway_event(method: str, resource: str, path: str, headers: dict[str, str], body: str | None = None,
                  query: dict[str, str] | None = None, path_parameters: dict[str, str] | None = None) -> dict:
    """A REST API (v1) Lambda proxy event, as API Gateway sends it to the integration of `resource`."""
    request_id = str(uuid.uuid4())
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters":
            {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/api{path}",
                           "stage": "api", "requestId": request_id, "identity": {"sourceIp": "203.0.113.7"}},
        "body": body, "isBase64Encoded": False,
    }


@pytest.fixture
def invoke(app_module: Any) -> Any:
    from chalice.test import Client

    with Client(app_module.app, stage_name="test") as chalice_client:
        def call(function: str, event: dict) -> dict:
            response = chalice_client.lambda_.invoke(function, event).payload
            assert response["headers"].get("X-Request-Id") == event["requestContext"]["requestId"]
            assert response["headers"]["Access-Control-Allow-Origin"] == "*"
            return {**response, "json": json.loads(response["body"]) if response["body"] else None}
        yield call


def test_each_split_function_serves_its_routes_through_the_app(client, citizen, checkpoint, invoke):
    person = citizen()
    body = dump({"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
                 "stayed_in_high_risk_area": False, "current_area": "510104"})
    applied = invoke("apply", gateway_event("POST", "/v1/codes", "/v1/codes", person.headers, body))
    assert applied["statusCode"] == 201 and applied["json"]["color"] == "green", applied

    verified = invoke("verify", gateway_event("POST", "/v1/verifications", "/v1/verifications", checkpoint,
                                              dump({"token": person.qr_token(), "checkpoint_id": "gate-1"})))
    assert verified["statusCode"] == 200 and verified["json"]["valid"] is True, verified

    listed = invoke("trips", gateway_event("GET", "/v1/trips", "/v1/trips", person.headers, query={"limit": "5"}))
    assert listed["statusCode"] == 200 and listed["json"]["trips"] == [], listed

    province = auth(client_token(client, Role.PROVINCE, province="44"))
    hooks = invoke("sync", gateway_event("GET", "/v1/webhooks", "/v1/webhooks", province))
    assert hooks["statusCode"] == 200, hooks
    missing = invoke("sync", gateway_event("GET", "/v1/webhooks/{webhook_id}", "/v1/webhooks/whk_none", province,
                                           path_parameters={"webhook_id": "whk_none"}))
    assert missing["statusCode"] == 404 and set(missing["json"]["error"]) == {"code", "message", "details"}


def test_the_app_answers_cors_preflight_headers(client):
    response = client.get("/v1/areas/510104")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]


@pytest.fixture(scope="module")
def merged(app_module: Any) -> dict:
    return package.merge_template(app_module.app)


def test_the_split_routes_are_integrated_with_their_functions(app_module, merged):
    owners = package.route_owners(app_module.app)
    split = {route: owner for route, owner in owners.items() if owner != package.API_HANDLER}
    assert {"Apply", "Verify", "Trips", "Sync"} == set(split.values())
    assert split[("POST", "/v1/codes")] == "Apply" and split[("POST", "/v1/verifications")] == "Verify"
    assert owners[("GET", "/v1/codes/me")] == package.API_HANDLER
    assert {r for r, o in split.items() if o == "Sync"} >= {("POST", "/v1/sync/local-codes"),
                                                           ("DELETE", "/v1/webhooks/{webhook_id}")}
    resources = merged["Resources"]
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for (method, path), owner in split.items():
        uri = paths[path][method.lower()]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        assert f"${{{owner}.Arn}}" in uri
        permission = resources[package.permission_name(owner, method, path)]["Properties"]
        assert permission["FunctionName"] == {"Ref": owner}
        assert permission["SourceArn"]["Fn::Sub"].endswith("/*/" + method + re.sub(r"\{[^}]+\}", "*", path))
    # only split routes are overridden: the rest keep Chalice's integration with the API handler
    assert {(m.upper(), p) for p, ms in paths.items() for m in ms} == set(split)


def test_every_function_gets_the_stacks_environment_logs_alarms_and_policy(app_module, merged):
    resources = merged["Resources"]
    functions = package.functions(app_module.app)
    assert set(functions) >= {"APIHandler", "Apply", "Verify", "Trips", "Sync", "Events", "Sweeper",
                              "WebhookRetries"}
    for resource, name in functions.items():
        variables = resources[resource]["Properties"]["Environment"]["Variables"]
        assert variables["HEALTHCODE_TABLE_PREFIX"] == {"Ref": "TablePrefix"}
        assert variables["HEALTHCODE_SECRET_ID"] == {"Ref": "SecretName"}
        assert resources[f"{resource}LogGroup"]["Type"] == "AWS::Logs::LogGroup"
        assert resources[f"{resource}ErrorsAlarm"]["Properties"]["Dimensions"] == [
            {"Name": "FunctionName", "Value": {"Ref": resource}}]
        policy = resources[package.role_of(resource, name)]["Properties"]["Policies"][0]["PolicyDocument"]
        text = json.dumps(policy)
        assert "healthcode-prod" not in text and '"arn:*' not in text and "${TablePrefix}" in text
    triggers = package.stream_triggers(app_module.app)
    assert triggers["Events"] == "EventsTable"
    for resource, table in triggers.items():  # each reads its table's stream by reference, not a pasted ARN
        stream = resources[resource]["Properties"]["Events"][f"{resource}DynamodbEventSource"]["Properties"]
        assert stream["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert resources[f"{resource}IteratorAgeAlarm"]["Type"] == "AWS::CloudWatch::Alarm"
    parameters = merged["Parameters"]
    prod = json.loads((package.CONFIG).read_text())["stages"]["prod"]["environment_variables"]
    assert parameters["TablePrefix"]["Default"] == prod["HEALTHCODE_TABLE_PREFIX"]
    assert parameters["SecretName"]["Default"] == prod["HEALTHCODE_SECRET_ID"]


def packaged(app_module: Any, merged: dict) -> dict[str, Any]:
    """The merge template's resources as `chalice package` completes them: functions typed, with their roles and
    stream events (what check() reads in out/sam.json)."""
    resources = copy.deepcopy(merged["Resources"])
    for resource, name in package.functions(app_module.app).items():
        props = resources[resource]
        props["Type"] = "AWS::Serverless::Function"
        props["Properties"]["Role"] = {"Fn::GetAtt": [package.role_of(resource, name), "Arn"]}
        for event in props["Properties"].get("Events", {}).values():
            event["Type"] = "DynamoDB"
    return resources


def test_every_stream_mapping_isolates_failures_and_keeps_what_it_gives_up(app_module, merged):
    from chalicelib.events import batches

    resources = merged["Resources"]
    queue = {"Fn::GetAtt": [package.FAILED_BATCHES_QUEUE, "Arn"]}
    triggers = package.stream_triggers(app_module.app)
    assert {"Events", "Scans"} <= set(triggers)
    for resource, name in package.functions(app_module.app).items():
        statements = resources[package.role_of(resource, name)]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"]
        sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
        if resource not in triggers:
            assert sends == []  # only a stream function's mapping sends to the queue, with its role
            continue
        mapping = resources[resource]["Properties"]["Events"][f"{resource}DynamodbEventSource"]["Properties"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        # enough retries for batches.MAX_ATTEMPTS to decide a record is dead, few enough to bound a stall
        assert batches.MAX_ATTEMPTS - 1 < mapping["MaximumRetryAttempts"] <= 5
        # gives up before the stream's 24 hours run out, leaving ops time to recover the records
        assert 3600 <= mapping["MaximumRecordAgeInSeconds"] <= 12 * 3600
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": queue}}
        assert sends == [{"Sid": "StreamFailuresQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
                          "Resource": queue}]
        assert resources[f"{resource}DeadRecords"]["Properties"]["FilterPattern"] == package.DEAD_RECORD_PATTERN
    kept = resources[package.FAILED_BATCHES_QUEUE]
    assert kept["Type"] == "AWS::SQS::Queue"
    assert kept["Properties"] == {"MessageRetentionPeriod": 14 * 86400, "SqsManagedSseEnabled": True}
    watching = resources["StreamFailuresQueueAlarm"]["Properties"]
    assert (watching["MetricName"], watching["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)
    assert watching["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert resources["DeadStreamRecordsAlarm"]["Properties"]["MetricName"] == "StreamRecordsDead"

    # what `make package` checks on out/sam.json: all there, and a mapping without a setting is named
    complete = packaged(app_module, merged)
    assert package.stream_mapping_problems(app_module.app, complete) == []
    del complete["Scans"]["Properties"]["Events"]["ScansDynamodbEventSource"]["Properties"][
        "BisectBatchOnFunctionError"]
    complete["Events"]["Properties"]["Events"]["EventsDynamodbEventSource"]["Properties"]["MaximumRetryAttempts"] = -1
    complete[package.FAILED_BATCHES_QUEUE]["Properties"].pop("SqsManagedSseEnabled")
    assert package.stream_mapping_problems(app_module.app, complete) == [
        "Events's stream event EventsDynamodbEventSource lacks ['MaximumRetryAttempts']",
        "Scans's stream event ScansDynamodbEventSource lacks ['BisectBatchOnFunctionError']",
        f"{package.FAILED_BATCHES_QUEUE} is not encrypted"]


def test_every_function_is_checked_for_its_name_log_group_and_alarms(app_module, merged):
    # this check once ran only when the roles were wrong, so a function without its log group passed the build
    complete = packaged(app_module, merged)
    assert package.function_resource_problems(app_module.app, complete) == []
    complete["Apply"]["Properties"]["FunctionName"] = "healthcode-apply"
    del complete["VerifyLogGroup"]
    del complete["SweeperErrorsAlarm"]
    del complete["APIHandlerDeadDeliveries"]
    assert sorted(package.function_resource_problems(app_module.app, complete)) == [
        "APIHandler has no DeadDeliveries", "Apply is not named after the stack", "Sweeper has no ErrorsAlarm",
        "Verify has no LogGroup"]


def test_gateway_responses_are_our_error_shape_with_cors(merged):
    responses = merged["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"} <= set(responses)
    for kind, response in responses.items():
        text = response["ResponseTemplates"]["application/json"]
        body = json.loads(text.replace("$context.error.messageString", json.dumps("Missing Authentication Token")))
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, kind
        assert re.fullmatch(r"[a-z_]+", body["error"]["code"])
        assert response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == "'*'"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    # the stage's throttle says when to come back, as the app's own 429s do (docs/errors.md)
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert responses["THROTTLED"]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


def metric_filter_matches(pattern: str, line: str) -> bool:
    """The subset of CloudWatch Logs' JSON filter syntax we use: { $.a = "x" && $.b = "y" }."""
    terms = re.findall(r'\$\.(\w+)\s*=\s*"([^"]*)"', pattern)
    assert terms and pattern.strip().startswith("{") and "||" not in pattern
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return all(str(record.get(field)) == value for field, value in terms)


def test_the_dead_delivery_metric_filter_matches_the_log_line(client, health_authority, pump, caplog):
    from chalicelib.logs import JsonFormatter

    gone = Receiver(plan=lambda mid, attempt: "410").start()  # 410 Gone: dead at the first attempt
    province = auth(client_token(client, Role.PROVINCE, province="62"))
    hook = subscribe(client, province, gone.url, ["area.level_changed"])
    gone.secrets.append(hook["secret"])
    with caplog.at_level(logging.INFO, logger="healthcode.webhooks"):
        assert client.put("/v1/areas/620102", headers=health_authority("62"),
                          body=dump({"level": "medium"})).status_code == 200
        pump.drain()
    gone.stop()
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "healthcode.webhooks"]
    dead = [line for line in lines if metric_filter_matches(package.DEAD_DELIVERY_PATTERN, line)]
    # the drain also delivers other tests' pending area changes to this subscription: once disabled by the first
    # 410 they die unsent (no status code). The one delivery the endpoint refused is the line, once
    assert len([line for line in dead if hook["id"] in line and '"status_code":410' in line]) == 1
    assert not [line for line in lines if '"delivered"' in line
                and metric_filter_matches(package.DEAD_DELIVERY_PATTERN, line)]


@pytest.fixture
def secrets_manager(monkeypatch) -> Any:
    """The Secrets Manager client of chalicelib/security/keyring.py, stubbed (no AWS here): botocore checks
    every request against the service's model, and each response is queued by the test."""
    import boto3

    stubbed = boto3.session.Session().client("secretsmanager", region_name="cn-north-1")
    stubber = Stubber(stubbed)
    monkeypatch.setattr(keyring, "_clients", {settings.get_settings().region: stubbed})
    monkeypatch.setattr(keyring, "_bundle", None)  # restored afterwards: the next test reads its own file again
    with stubber:
        yield stubbed, stubber
    stubber.assert_no_pending_responses()


def test_prod_reads_the_bundle_from_secrets_manager_once_per_container(client, secrets_manager):
    stubbed, stubber = secrets_manager
    bundle = keyring.generate_bundle(1_700_000_000)
    settings.override(secret_id="healthcode/test-prod")
    stubber.add_response("get_secret_value", {"SecretString": json.dumps(bundle.to_json()), "VersionId": "v1" * 16,
                                              "Name": "healthcode/test-prod"},
                         {"SecretId": "healthcode/test-prod"})
    first = client.get("/.well-known/jwks.json")
    second = client.get("/.well-known/jwks.json")  # no second read: the stub would have no answer
    assert first.status_code == second.status_code == 200
    # the QR key of the bundle read, and the paper codes' key derived from it (docs/identity.md#paper-codes)
    assert [k["kid"] for k in first.json_body["keys"]] == [bundle.signing_keys[0].kid, "pc1"]


def test_rotating_in_prod_writes_a_new_version_of_the_same_json(secrets_manager):
    from click.testing import CliRunner

    from ops.cli import main

    stubbed, stubber = secrets_manager
    current = keyring.generate_bundle(1_700_000_000)
    answer = {"SecretString": json.dumps(current.to_json()), "VersionId": "a" * 32, "Name": "healthcode/test-prod"}
    written: dict[str, Any] = {}

    def capture(params: dict, model: Any, **_: Any) -> None:
        if model.name == "PutSecretValue":
            written.update(params)
            # the rotation re-reads the bundle it wrote
            stubber.add_response("get_secret_value", {**answer, "SecretString": params["SecretString"],
                                                      "VersionId": "b" * 32}, {"SecretId": "healthcode/test-prod"})

    stubbed.meta.events.register("before-parameter-build.secrets-manager.PutSecretValue", capture)
    stubber.add_response("get_secret_value", answer, {"SecretId": "healthcode/test-prod"})
    stubber.add_response("get_secret_value", answer, {"SecretId": "healthcode/test-prod"})
    stubber.add_response("put_secret_value", {"VersionId": "b" * 32},
                         {"SecretId": "healthcode/test-prod", "SecretString": ANY})
    result = CliRunner().invoke(main, ["--stage", "test", "--secret-id", "healthcode/test-prod", "keys", "rotate",
                                       "--publish-for", "600"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "secret healthcode/test-prod" in result.output
    updated = keyring.SecretBundle.from_json(json.loads(written["SecretString"]))
    assert (updated.pepper, updated.session_key, updated.client_key) == (current.pepper, current.session_key,
                                                                         current.client_key)
    old, new = updated.signing_keys
    assert old.kid == current.signing_keys[0].kid and old.retired_at == new.signing_start
    assert new.signing_start - new.created_at == 600


def test_tables_created_by_the_ops_cli_in_aws_get_the_templates_protections():
    from infra import bootstrap

    for props in bootstrap.table_resources().values():
        local = bootstrap.create_request(props, "healthcode-prod")
        aws = bootstrap.create_request(props, "healthcode-prod", aws=True)
        assert "SSESpecification" not in local and "DeletionProtectionEnabled" not in local  # DynamoDB Local
        assert aws["SSESpecification"] == {"Enabled": True} and aws["DeletionProtectionEnabled"] is True
        assert {k: v for k, v in aws.items() if k not in ("SSESpecification", "DeletionProtectionEnabled")} == local
        # point-in-time recovery is switched on after creation (bootstrap.bootstrap), as CreateTable cannot
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
