"""`make package`: the deployable CloudFormation (SAM) template and Lambda bundle in out/, checked.

    python -m infra.package [--out out] [--no-build]

1. Builds the merge template out/merge-template.json from three parts:
   - infra/template.json: every table (the one definition, also used by the local bootstrap);
   - infra/deploy.json: deploy-only resources and parameters (secret name, identity provider,
     alarm topic, the stream failures queue, dead-delivery, dead-event, queue and API 5xx alarms);
   - what follows from the app itself (imported, not parsed): for each Lambda function, its name,
     environment (table prefix, secret name... from the template's parameters), log group with
     retention, error alarm and dead-delivery metric filter; each stream function's stream wired from
     its table's StreamArn (EventsTable's for `events`), its mapping isolating failures (STREAM_MAPPING:
     partial batch responses, bisect, bounded retries and record age, the on-failure queue of
     infra/deploy.json, which its role may send to) and a dead-record metric filter; the paths served by
     the split functions (FUNCTION_ROUTES) pointed at them, each with its own invoke permission; API
     Gateway's own error responses in our error shape with the app's CORS headers; the role's policy
     from .chalice/policy-prod.json, made to follow the template's parameters.
2. Runs `chalice package --stage prod --merge-template out/merge-template.json out/`.
3. Checks the result (`check`): what step 1 meant to wire is wired in out/sam.json (every stream mapping
   of every function: `stream_mapping_problems`), nothing is left pointing at a placeholder, and the
   bundle fits Lambda's size limits. `make lint` then runs cfn-lint.

Chalice serves every route from one function (APIHandler) and has no notion of splitting them; the
split functions are `@app.lambda_function`s that call the same app (app.py), and this file moves the
API Gateway integrations of their paths over to them. Locally and in tests the app serves every path.
"""
from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from chalicelib import functions as split
from infra import build_only, bytecode

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "infra" / "template.json"
DEPLOY = ROOT / "infra" / "deploy.json"
CONFIG = ROOT / ".chalice" / "config.json"
STAGE = "prod"

# Which split function serves which routes, as chalicelib/functions.py states them (with the blueprint of each):
# (HTTP method or "*", path pattern; "*" matches anything). Every other route stays on the API handler.
FUNCTION_ROUTES: dict[str, list[tuple[str, str]]] = {
    name: [rule for rules in by_blueprint.values() for rule in rules]
    for name, by_blueprint in split.SPLIT_ROUTES.items()
}
API_HANDLER = "APIHandler"
API_FUNCTION_NAME = "api"
# With `autogen_policy: false` Chalice gives each function a role of its own ("<name>_role"), all with the
# stage's policy file: one role per function, so each can later be narrowed on its own.
ROLE_OF_API_HANDLER = "api_handler"

# Lambda's limits for a function's code (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
MAX_ZIPPED = 50 * 1024 * 1024        # a .zip uploaded directly
MAX_UNZIPPED = 250 * 1024 * 1024     # unzipped, layers included (we use none)
MAX_INLINE_POLICY = 10240            # characters of a role's inline policies, whitespace not counted
MAX_TEMPLATE_BYTES = 1_000_000       # a CloudFormation template read from S3 (as `aws cloudformation deploy` does)
MAX_RESOURCES = 500                  # resources in one stack, after the SAM transform
# Our own budget for the bundle (issue 16): a smaller zip is a shorter upload and cold fetch. cryptography's Rust
# extension is 4.6 MB of it and pydantic_core's 2.1 MB (docs/BENCHMARKS.md#deployment-package).
# Issue 16 set 10,000,000 at 9,779,775 bytes; issues 17-21 added about 340 KB zipped of our own code (five
# features, no new dependency), and leaving out pydantic's unused 1.x package (infra/build_only.py) took 0.4 MB
# off: 9,713,315 bytes, within the budget issue 16 set.
BUDGET_ZIPPED = 10_000_000

# Parameters of the template -> the environment variable each one becomes in every function.
ENVIRONMENT = {
    "HEALTHCODE_TABLE_PREFIX": {"Ref": "TablePrefix"},
    "HEALTHCODE_SECRET_ID": {"Ref": "SecretName"},
    "HEALTHCODE_ISSUER": {"Ref": "Issuer"},
    "HEALTHCODE_IDP_ISSUER": {"Ref": "IdpIssuer"},
    "HEALTHCODE_IDP_AUDIENCE": {"Ref": "IdpAudience"},
    "HEALTHCODE_IDP_JWKS": {"Ref": "IdpJwks"},
}

# The log line chalicelib/events/delivery.py writes after each attempt, as chalicelib/logs.py formats it.
DEAD_DELIVERY_PATTERN = '{ $.message = "webhook attempt" && $.status = "dead" }'
# The line chalicelib/events/batches.py writes when a stream record becomes a dead record.
DEAD_RECORD_PATTERN = '{ $.message = "stream record dead" }'

# Every DynamoDB stream mapping of every function (docs/deploy.md says why each value). Chalice has no
# setting for these: merge_template adds them to each `@app.on_dynamodb_record`, check() insists on them.
FAILED_BATCHES_QUEUE = "StreamFailuresQueue"   # infra/deploy.json
STREAM_MAPPING: dict[str, Any] = {
    # the function answers which record failed (chalicelib/events/batches.py): Lambda retries from it only
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    # a crash or timeout (no answer at all) splits the batch until the record that causes it is alone
    "BisectBatchOnFunctionError": True,
    # batches.MAX_ATTEMPTS needs 2 retries of a failing record; one more for a crash in between. A record that
    # crashes the function is then given up after 8 bisecting invocations and 3 retries: at the events
    # function's 300 s timeout, at most 55 minutes of its shard, against 24 hours without a limit
    "MaximumRetryAttempts": 3,
    # a backstop for batches that cannot even be invoked (throttled, a broken deploy): after 6 hours they
    # go to the queue, leaving ops 18 hours to recover them before the stream's 24-hour retention drops them
    "MaximumRecordAgeInSeconds": 6 * 3600,
    "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [FAILED_BATCHES_QUEUE, "Arn"]}}},
    # ten batches of a shard at once (Lambda keeps each partition key's records in order): the work and
    # catchup tables are small, so their streams have few shards, and a city's fan-out would otherwise run
    # one unit batch at a time; every handler is idempotent and no two records share an ordering need
    # (events and units have keys of their own; a code's scans are rows of their own)
    "ParallelizationFactor": 10,
}

# API Gateway's own answers (no Lambda involved), in our error shape: type -> (status, code, message).
# A message of None is API Gateway's own message. docs/deploy.md lists them.
GATEWAY_RESPONSES: dict[str, tuple[int | None, str, str | None]] = {
    "DEFAULT_4XX": (None, "bad_request", None),
    "DEFAULT_5XX": (None, "internal_error", "An internal error occurred."),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "No such resource, or not with this method."),
    "ACCESS_DENIED": (403, "forbidden", None),
    "WAF_FILTERED": (403, "forbidden", "The request was refused by the firewall."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The request is too large."),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", None),
    "THROTTLED": (429, "too_many_requests", "Too many requests; retry after a short wait."),
    "QUOTA_EXCEEDED": (429, "too_many_requests", "Too many requests; retry later."),
    "INTEGRATION_FAILURE": (502, "internal_error", "An internal error occurred."),
    "INTEGRATION_TIMEOUT": (504, "gateway_timeout", "The request took too long; retry it (with the same "
                                                    "Idempotency-Key where the operation takes one)."),
}


# --- reading the app -------------------------------------------------------------------------------

def load_app() -> Any:
    sys.path.insert(0, str(ROOT))
    import app as app_module

    return app_module.app


def cfn_name(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(name)


def role_of(resource: str, name: str) -> str:
    return cfn_name(f"{ROLE_OF_API_HANDLER if resource == API_HANDLER else name}_role")


def functions(app: Any) -> dict[str, str]:
    """CloudFormation resource name -> the function's short name (its FunctionName after the stack name)."""
    found = {API_HANDLER: API_FUNCTION_NAME} if app.routes else {}
    for item in [*app.pure_lambda_functions, *app.event_sources]:
        found[cfn_name(item.name)] = item.name
    return found


def routes(app: Any) -> list[tuple[str, str]]:
    """(METHOD, path) of every route, as Chalice writes them in the API definition."""
    return sorted((method.upper(), path) for path, methods in app.routes.items() for method in methods)


def route_owners(app: Any) -> dict[tuple[str, str], str]:
    """(METHOD, path) -> resource name of the function serving it. Refuses (SystemExit) a rule that matches no
    route, a route two functions claim, and a rule whose blueprint does not serve a route it matches: the function
    would not load the view."""
    owners = {route: API_HANDLER for route in routes(app)}
    for name, by_blueprint in split.SPLIT_ROUTES.items():
        for blueprint, rules in by_blueprint.items():
            for method, pattern in rules:
                for route in _matching(owners, name, method, pattern):
                    if owners[route] not in (API_HANDLER, cfn_name(name)):
                        raise SystemExit(f"chalicelib/functions.py: {route} is claimed by two functions")
                    module = app.routes[route[1]][route[0]].view_function.__module__.rpartition(".")[2]
                    if module != blueprint:
                        raise SystemExit(f"chalicelib/functions.py: the {name} function's rule {method} {pattern} "
                                         f"(blueprint {blueprint}) matches {route}, served by chalicelib/api/"
                                         f"{module}.py, which that function does not load")
                    owners[route] = cfn_name(name)
    handlers = {item.name for item in app.pure_lambda_functions}  # the split functions call the app (app.py)
    if set(split.SPLIT_ROUTES) - handlers:
        raise SystemExit(f"chalicelib/functions.py names functions app.py does not define: "
                         f"{sorted(set(split.SPLIT_ROUTES) - handlers)}")
    named = handlers | {item.name for item in app.event_sources}
    unplaced = named - set(split.SPLIT_ROUTES) - set(split.NO_ROUTES)
    if unplaced:  # it would load every blueprint, as the API handler does
        raise SystemExit(f"chalicelib/functions.py: say which routes {sorted(unplaced)} serve (SPLIT_ROUTES), "
                         f"or that they serve none (NO_ROUTES)")
    return owners


def _matching(owners: dict[tuple[str, str], str], name: str, method: str, pattern: str) -> list[tuple[str, str]]:
    matched = [r for r in owners if method in ("*", r[0]) and fnmatch.fnmatchcase(r[1], pattern)]
    if not matched:
        raise SystemExit(f"chalicelib/functions.py: {name} {method} {pattern} matches no route of the app")
    return matched


def stream_triggers(app: Any) -> dict[str, str]:
    """Resource name of each DynamoDB stream handler -> the table resource whose stream it reads.

    app.py names the table in a placeholder ARN (`...:table/healthcode-prod-<kind>/stream/...`), which
    `chalice deploy` replaces from the environment; the template names it by reference instead."""
    prefix = stage_config()["environment_variables"]["HEALTHCODE_TABLE_PREFIX"]
    tables = {props["Properties"]["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}-"): name
              for name, props in json.loads(TABLES.read_text())["Resources"].items()
              if props["Type"] == "AWS::DynamoDB::Table"}
    found = {}
    for source in app.event_sources:
        arn = getattr(source, "stream_arn", None) or ""
        if ":dynamodb:" not in arn:
            continue
        match = re.search(r":table/" + re.escape(prefix) + r"-([^/]+)/stream/", arn)
        if not match or match.group(1) not in tables:
            raise SystemExit(f"stream handler {source.name}: cannot tell which table of infra/template.json "
                             f"{arn} names")
        found[cfn_name(source.name)] = tables[match.group(1)]
    return found


def cors_headers(app: Any) -> dict[str, str]:
    cors = app.api.cors
    return cors.get_access_control_headers() if cors and cors is not True else {}


# --- the merge template ------------------------------------------------------------------------------

def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        elif key in merged and merged[key] != value and key != "Description":
            raise SystemExit(f"infra/deploy.json redefines {key} of infra/template.json")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def stage_config() -> dict[str, Any]:
    return json.loads(CONFIG.read_text())["stages"][STAGE]


def execute_api_arn(method: str, path: str) -> dict[str, Any]:
    """The SourceArn of one route: any stage, this method, path parameters as wildcards."""
    path = re.sub(r"\{[^}]+\}", "*", path)
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{RestAPI}}/*/"
                       f"{method}{path}"}


def integration_uri(resource: str) -> dict[str, Any]:
    return {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                       f"${{{resource}.Arn}}/invocations"}


def permission_name(resource: str, method: str, path: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", "By/").replace("}", ""))
    return f"{resource}Invoke{method.title()}" + "".join(w[:1].upper() + w[1:] for w in words)


def role_policy(document: dict[str, Any], table_prefix: str, secret_id: str) -> dict[str, Any]:
    """.chalice/policy-prod.json (literal names, any region and account, usable by `chalice deploy`),
    made to follow the stack: partition, region, account, TablePrefix, SecretName, the functions' names."""
    replacements = [
        (re.compile(r"^arn:\*:(\w+):\*:\*:"), r"arn:${AWS::Partition}:\1:${AWS::Region}:${AWS::AccountId}:"),
        (re.compile(r":table/" + re.escape(table_prefix) + "-"), ":table/${TablePrefix}-"),
        (re.compile(r":secret:" + re.escape(secret_id) + "-"), ":secret:${SecretName}-"),
        (re.compile(r":log-group:/aws/lambda/" + re.escape(table_prefix) + r"\*"),
         ":log-group:/aws/lambda/${AWS::StackName}-*"),
    ]

    def resource(value: str) -> Any:
        if value == "*":
            return value
        new = value
        for pattern, replacement in replacements:
            new = pattern.sub(replacement, new)
        if new.startswith("arn:*") or table_prefix in new or secret_id in new:
            raise SystemExit(f".chalice/policy-prod.json: cannot make {value} follow the stack's parameters")
        return {"Fn::Sub": new}

    policy = copy.deepcopy(document)
    for statement in policy["Statement"]:
        values = statement["Resource"]
        statement["Resource"] = [resource(v) for v in values] if isinstance(values, list) else resource(values)
    return policy


# Headers one of them adds. THROTTLED is the stage's token bucket, refilled every second; QUOTA_EXCEEDED would be a
# usage plan's quota, which the stage has none of, so it promises no delay.
GATEWAY_HEADERS: dict[str, dict[str, str]] = {"THROTTLED": {"Retry-After": "1"}}


def gateway_responses(app: Any) -> dict[str, Any]:
    headers = {name: f"'{value}'" for name, value in cors_headers(app).items()
               if name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers")}
    headers["Cache-Control"] = "'no-store'"
    found = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        text = "$context.error.messageString" if message is None else json.dumps(message)
        response: dict[str, Any] = {
            "ResponseParameters": {"Headers": {**headers, **{name: f"'{value}'" for name, value
                                                            in GATEWAY_HEADERS.get(kind, {}).items()}}},
            "ResponseTemplates": {"application/json":
                                  f'{{"error": {{"code": "{code}", "message": {text}, "details": []}}}}'},
        }
        if status is not None:
            response["StatusCode"] = str(status)
        found[kind] = response
    return found


def merge_template(app: Any) -> dict[str, Any]:
    template = deep_merge(json.loads(TABLES.read_text()), json.loads(DEPLOY.read_text()))
    config = stage_config()
    env = config["environment_variables"]
    table_prefix, secret_id = env["HEALTHCODE_TABLE_PREFIX"], env["HEALTHCODE_SECRET_ID"]
    params = template["Parameters"]
    if params["TablePrefix"]["Default"] != table_prefix or params["SecretName"]["Default"] != secret_id:
        raise SystemExit("the template's TablePrefix / SecretName defaults differ from the prod stage's "
                         "HEALTHCODE_TABLE_PREFIX / HEALTHCODE_SECRET_ID in .chalice/config.json")
    resources = template["Resources"]

    for resource, name in functions(app).items():
        log_group = f"{resource}LogGroup"
        resources[resource] = {
            "DependsOn": [log_group],
            "Properties": {
                "FunctionName": {"Fn::Sub": f"${{AWS::StackName}}-{name}"},
                "Environment": {"Variables": {**ENVIRONMENT, "HEALTHCODE_FUNCTION": name}},
            },
        }
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{name}"},
                           "RetentionInDays": {"Ref": "LogRetentionDays"}},
        }
        resources[f"{resource}DeadDeliveries"] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {"LogGroupName": {"Ref": log_group}, "FilterPattern": DEAD_DELIVERY_PATTERN,
                           "MetricTransformations": [{"MetricNamespace": {"Fn::Sub": "healthcode/${AWS::StackName}"},
                                                      "MetricName": "WebhookDeliveriesDead", "MetricValue": "1",
                                                      "Unit": "Count"}]},
        }
        resources[f"{resource}ErrorsAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"The {name} function failed (an unhandled error, a timeout or running out "
                                    "of memory; errors the app answers as 4xx/5xx are not counted here).",
                "Namespace": "AWS/Lambda", "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": resource}}],
                "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
            },
        }

    for resource, table in stream_triggers(app).items():
        resources[resource]["Properties"]["Events"] = {f"{resource}DynamodbEventSource": {"Properties": {
            "Stream": {"Fn::GetAtt": [table, "StreamArn"]}, **copy.deepcopy(STREAM_MAPPING)}}}
        resources[f"{resource}DeadRecords"] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {"LogGroupName": {"Ref": f"{resource}LogGroup"}, "FilterPattern": DEAD_RECORD_PATTERN,
                           "MetricTransformations": [{"MetricNamespace": {"Fn::Sub": "healthcode/${AWS::StackName}"},
                                                      "MetricName": "StreamRecordsDead", "MetricValue": "1",
                                                      "Unit": "Count"}]},
        }
        resources[f"{resource}IteratorAgeAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"The {resource} function is more than 5 minutes behind {table}'s stream: a "
                                    "batch keeps failing (it is retried until it succeeds) or it cannot keep up.",
                "Namespace": "AWS/Lambda", "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": resource}}],
                "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 5, "Threshold": 300000,
                "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
            },
        }

    paths: dict[str, Any] = {}
    for (method, path), owner in route_owners(app).items():
        if owner == API_HANDLER:
            continue
        integration = {"x-amazon-apigateway-integration": {"uri": integration_uri(owner)}}
        paths.setdefault(path, {})[method.lower()] = integration
        resources[permission_name(owner, method, path)] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": owner},
                           "Principal": "apigateway.amazonaws.com", "SourceArn": execute_api_arn(method, path)},
        }
    resources["RestAPI"] = {"Properties": {
        "Name": {"Ref": "AWS::StackName"},
        "DefinitionBody": {"paths": paths},
        "GatewayResponses": gateway_responses(app),
    }}

    policy = role_policy(json.loads((ROOT / ".chalice" / config["iam_policy_file"]).read_text()),
                         table_prefix, secret_id)
    triggered = stream_triggers(app)
    for resource, name in functions(app).items():
        role = role_of(resource, name)
        document = copy.deepcopy(policy)
        if resource in triggered:  # Lambda sends what a mapping gives up on to the queue with the function's role
            document["Statement"].append({"Sid": "StreamFailuresQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
                                          "Resource": {"Fn::GetAtt": [FAILED_BATCHES_QUEUE, "Arn"]}})
        resources[role] = {"Properties": {"Policies": [{"PolicyName": f"{role}Policy", "PolicyDocument": document}]}}
    return template


# --- checking the packaged template ---------------------------------------------------------------------

def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def stream_mapping_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Every DynamoDB stream event of every function has STREAM_MAPPING's settings, its role may send to the
    on-failure queue, and the queue keeps what it gets (encrypted, 14 days) and alarms when it gets any."""
    from chalicelib.events import batches

    problems = []
    if STREAM_MAPPING["MaximumRetryAttempts"] < batches.MAX_ATTEMPTS - 1:
        problems.append("MaximumRetryAttempts is below what batches.MAX_ATTEMPTS needs")
    for resource, props in resources.items():
        if props.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in props["Properties"].get("Events", {}).items():
            if event.get("Type") != "DynamoDB":
                continue
            settings = event["Properties"]
            wrong = sorted(k for k, v in STREAM_MAPPING.items() if settings.get(k) != v)
            if wrong:
                problems.append(f"{resource}'s stream event {name} lacks {wrong}")
            role = props["Properties"].get("Role", {}).get("Fn::GetAtt", [""])[0]
            statements = (resources.get(role, {}).get("Properties", {}).get("Policies") or [{}])[0] \
                .get("PolicyDocument", {}).get("Statement", [])
            if not any(s.get("Action") == "sqs:SendMessage" and s.get("Resource") ==
                       STREAM_MAPPING["DestinationConfig"]["OnFailure"]["Destination"] for s in statements):
                problems.append(f"{role} may not send to {FAILED_BATCHES_QUEUE}, where {resource}'s mapping gives up")
        if resource in stream_triggers(app) and f"{resource}DeadRecords" not in resources:
            problems.append(f"{resource} has no DeadRecords metric filter")
    queue = resources.get(FAILED_BATCHES_QUEUE, {}).get("Properties", {})
    if queue.get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in queue:
        problems.append(f"{FAILED_BATCHES_QUEUE} is not encrypted")
    if queue.get("MessageRetentionPeriod") != 14 * 86400:
        problems.append(f"{FAILED_BATCHES_QUEUE} does not keep messages 14 days")
    watched = {json.dumps(alarm["Properties"].get("Dimensions")) for alarm in resources.values()
               if alarm.get("Type") == "AWS::CloudWatch::Alarm" and alarm["Properties"].get("Namespace") == "AWS/SQS"}
    if json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [FAILED_BATCHES_QUEUE, "QueueName"]}}]) not in watched:
        problems.append(f"no alarm on {FAILED_BATCHES_QUEUE}'s messages")
    return problems


def _of_type(resources: dict[str, Any], kind: str) -> set[str]:
    return {name for name, resource in resources.items() if resource.get("Type") == kind}


# the tables that hold no personal data (organisations' clients, area levels, provinces' keys, webhooks), so
# have no TTL; every other table expires its items on `expires_at` (docs/retention.md)
WITHOUT_PERSONAL_DATA = frozenset({"ClientsTable", "AreasTable", "ProvincesTable", "WebhooksTable"})
TTL = {"AttributeName": "expires_at", "Enabled": True}


def table_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Exactly infra/template.json's tables, unchanged, with streams, TTL, PITR, deletion protection and SSE."""
    problems = []
    tables = json.loads(TABLES.read_text())["Resources"]
    for name, table in tables.items():
        if resources.get(name) != table:
            problems.append(f"table {name} differs from infra/template.json")
        props = table["Properties"]
        problems += [f"table {name} has no {key}" for key in ("StreamSpecification",
                                                               "PointInTimeRecoverySpecification",
                                                               "SSESpecification") if key not in props]
        if props.get("DeletionProtectionEnabled") is not True or table.get("DeletionPolicy") != "Retain":
            problems.append(f"table {name} is not protected from deletion")
        if name not in WITHOUT_PERSONAL_DATA and props.get("TimeToLiveSpecification") != TTL:
            problems.append(f"table {name} holds personal data and has no TTL on expires_at (docs/retention.md)")
    if _of_type(resources, "AWS::DynamoDB::Table") != set(tables):
        problems.append("the template has tables infra/template.json does not define")
    return problems


def function_environment_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """One function per app function, each with the stack's environment and the name of the function it is."""
    wanted = functions(app)
    found = _of_type(resources, "AWS::Serverless::Function")
    problems = [] if found == set(wanted) else [f"functions {sorted(found)} != {sorted(wanted)}"]
    stage_env = stage_config()["environment_variables"]
    for resource, name in wanted.items():
        variables = resources.get(resource, {}).get("Properties", {}).get("Environment", {}).get("Variables", {})
        for key, value in {**stage_env, **ENVIRONMENT}.items():
            expected = ENVIRONMENT.get(key, value)
            if variables.get(key) != expected:
                problems.append(f"{resource}: {key} is {variables.get(key)!r}, not {expected!r}")
        if variables.get("HEALTHCODE_FUNCTION") != name:  # which blueprints it loads (chalicelib/functions.py)
            problems.append(f"{resource}: HEALTHCODE_FUNCTION is {variables.get('HEALTHCODE_FUNCTION')!r}, "
                            f"not {name!r}")
    return problems


def function_resource_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Every function named after the stack, with its log group, error alarm and dead-delivery metric filter."""
    problems = []
    for resource, name in functions(app).items():
        if resources.get(resource, {}).get("Properties", {}).get("FunctionName") != \
                {"Fn::Sub": f"${{AWS::StackName}}-{name}"}:
            problems.append(f"{resource} is not named after the stack")
        problems += [f"{resource} has no {suffix}" for suffix in ("LogGroup", "ErrorsAlarm", "DeadDeliveries")
                     if f"{resource}{suffix}" not in resources]
    return problems


def role_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """A role per function, whose hand-written policy follows the parameters, within IAM's size limit."""
    problems = []
    wanted = functions(app)
    for resource, name in wanted.items():
        role = role_of(resource, name)
        if resources.get(resource, {}).get("Properties", {}).get("Role") != {"Fn::GetAtt": [role, "Arn"]}:
            problems.append(f"{resource} does not run as {role}")
            continue
        policies = resources[role]["Properties"]["Policies"]
        document = policies[0]["PolicyDocument"]
        if len(policies) != 1 or any("healthcode-prod" in s or s.startswith("arn:*") for s in _strings(document)):
            problems.append(f"{role}'s policy names prod's resources literally instead of following the stack")
        inline = len(re.sub(r"\s", "", json.dumps(document)))
        if inline > MAX_INLINE_POLICY:
            problems.append(f"{role}'s inline policy is {inline} characters, over IAM's {MAX_INLINE_POLICY}")
    roles = _of_type(resources, "AWS::IAM::Role")
    if roles != {role_of(r, n) for r, n in wanted.items()}:
        problems.append(f"roles {sorted(roles)} are not one per function")
    return problems


def stream_trigger_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Each stream trigger reads its table's stream, named by reference, with an iterator-age alarm."""
    problems = []
    for resource, table in stream_triggers(app).items():
        events = resources.get(resource, {}).get("Properties", {}).get("Events", {})
        streams = [e["Properties"].get("Stream") for e in events.values() if e.get("Type") == "DynamoDB"]
        if streams != [{"Fn::GetAtt": [table, "StreamArn"]}]:
            problems.append(f"{resource}'s trigger reads {streams}, not {table}'s StreamArn")
        if f"{resource}IteratorAgeAlarm" not in resources:
            problems.append(f"{resource} has no IteratorAgeAlarm")
    return problems


def placeholder_problems(template: dict[str, Any]) -> list[str]:
    """No placeholder ARN of app.py survives anywhere in the template: only `chalice deploy` would replace it."""
    if any("wired-at-deploy" in s or ":000000000000:" in s for s in _strings(template)):
        return ["a placeholder ARN is left in the template"]
    return []


def schedule_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """The two schedules, as app.py declares them."""
    schedules = {resource: event["Properties"]["Schedule"] for resource in functions(app)
                 for event in resources[resource]["Properties"].get("Events", {}).values()
                 if event["Type"] == "Schedule"}
    if schedules != {"Sweeper": "rate(10 minutes)", "WebhookRetries": "rate(1 minute)"}:
        return [f"schedules are {schedules}"]
    return []


def route_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Each (method, path) integrates with the function chalicelib/functions.py gives it, which may be invoked."""
    problems = []
    api_paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    owners = route_owners(app)
    for (method, path), owner in owners.items():
        integration = api_paths.get(path, {}).get(method.lower(), {}).get("x-amazon-apigateway-integration", {})
        if integration.get("uri") != integration_uri(owner) or integration.get("type") != "aws_proxy":
            problems.append(f"{method} {path} is not integrated with {owner}")
        if owner == API_HANDLER:
            continue
        permission = resources.get(permission_name(owner, method, path), {}).get("Properties", {})
        if permission.get("FunctionName") != {"Ref": owner} or \
                permission.get("SourceArn") != execute_api_arn(method, path):
            problems.append(f"API Gateway may not invoke {owner} for {method} {path}")
    integrated = {(m.upper(), p) for p, ms in api_paths.items() for m in ms if m != "options"}
    if integrated != set(owners):
        problems.append(f"API paths without a route or routes without a path: {sorted(integrated ^ set(owners))}")
    if resources.get("APIHandlerInvokePermission", {}).get("Properties", {}).get("FunctionName") != \
            {"Ref": API_HANDLER}:
        problems.append("API Gateway may not invoke the API handler")
    return problems


def gateway_response_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """API Gateway's own answers: the default ones at least, in our error shape, with the CORS headers."""
    responses = resources["RestAPI"]["Properties"].get("GatewayResponses", {})
    problems = [f"no gateway response {kind}" for kind in ("DEFAULT_4XX", "DEFAULT_5XX") if kind not in responses]
    origin = f"'{cors_headers(app).get('Access-Control-Allow-Origin')}'"
    for kind, response in responses.items():
        body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"m"')
        shape = json.loads(body)
        if set(shape) != {"error"} or set(shape["error"]) != {"code", "message", "details"}:
            problems.append(f"gateway response {kind} is not our error shape")
        if response["ResponseParameters"]["Headers"].get("Access-Control-Allow-Origin") != origin:
            problems.append(f"gateway response {kind} lacks the CORS headers")
    return problems


def alarm_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """Every alarm notifies the topic, and dead webhook deliveries have one."""
    problems = [f"alarm {name} notifies nobody" for name in sorted(_of_type(resources, "AWS::CloudWatch::Alarm"))
                if resources[name]["Properties"].get("AlarmActions") != [{"Ref": "AlarmTopic"}]]
    if "DeadWebhookDeliveriesAlarm" not in resources:
        problems.append("no alarm on dead webhook deliveries")
    return problems


def runtime_problems(app: Any, resources: dict[str, Any]) -> list[str]:
    """The functions run the Python the bundle's bytecode was compiled by."""
    runtimes = {resources[r]["Properties"].get("Runtime") for r in functions(app) if r in resources}
    if runtimes != {bytecode.runtime()}:
        return [f"the functions run {sorted(map(str, runtimes))} but the bundle's bytecode is for "
                f"{bytecode.runtime()}: package with that Python"]
    return []


# Each promise of merge_template, as a named check of the packaged template's resources
TEMPLATE_CHECKS = (table_problems, function_environment_problems, function_resource_problems, role_problems,
                   stream_trigger_problems, schedule_problems, route_problems,
                   gateway_response_problems, stream_mapping_problems, alarm_problems, runtime_problems)


def bundle_figures(bundle: Path) -> dict[str, int]:
    with zipfile.ZipFile(bundle) as archive:
        infos = archive.infolist()
    return {"zipped": bundle.stat().st_size, "unzipped": sum(info.file_size for info in infos), "files": len(infos),
            "bytecode": sum(1 for info in infos if info.filename.endswith(".pyc"))}


def bundle_problems(bundle: Path, figures: dict[str, int]) -> list[str]:
    """The bundle carries bytecode for the functions' runtime (cold starts do not compile it) and fits Lambda's
    limits."""
    problems = []
    uncompiled = bytecode.missing_bytecode(bundle)
    if uncompiled:
        problems.append(f"{len(uncompiled)} modules of the bundle have no unchecked-hash bytecode, e.g. "
                        f"{uncompiled[:3]}")
    leftovers = build_only.left(bundle)
    if leftovers:
        problems.append(f"the bundle holds packages needed only to build others: {leftovers[:3]}")
    if figures["zipped"] > BUDGET_ZIPPED:
        problems.append(f"the bundle is {figures['zipped']} bytes zipped, over its budget of {BUDGET_ZIPPED}")
    if build_only.runs_here():
        problems += build_only.smoke_problems(bundle)
    if figures["zipped"] > MAX_ZIPPED:
        problems.append(f"the bundle is {figures['zipped']} bytes zipped, over the {MAX_ZIPPED} of a direct upload")
    if figures["unzipped"] > MAX_UNZIPPED:
        problems.append(f"the bundle is {figures['unzipped']} bytes unzipped, over Lambda's {MAX_UNZIPPED}")
    return problems


def check(app: Any, template: dict[str, Any], bundle: Path) -> dict[str, Any]:
    """Every promise of merge_template, verified on what `chalice package` wrote. Returns the figures."""
    resources = template["Resources"]
    problems = [problem for rule in TEMPLATE_CHECKS for problem in rule(app, resources)]
    problems += placeholder_problems(template)
    figures = bundle_figures(bundle)
    problems += bundle_problems(bundle, figures)
    if len(json.dumps(template, indent=2)) > MAX_TEMPLATE_BYTES:
        problems.append(f"the template is over CloudFormation's {MAX_TEMPLATE_BYTES} bytes")
    if problems:
        raise SystemExit("out/sam.json is not what infra/package.py meant:\n  " + "\n  ".join(problems))
    owners = route_owners(app)
    return {**figures, "functions": len(functions(app)), "routes": len(owners),
            "split_routes": sum(1 for o in owners.values() if o != API_HANDLER), "resources": len(resources)}


def inline_policy_chars(template: dict[str, Any]) -> int:
    return max(len(re.sub(r"\s", "", json.dumps(r["Properties"]["Policies"]))) for r in template["Resources"].values()
               if r["Type"] == "AWS::IAM::Role")


# --- main ---------------------------------------------------------------------------------------------

# The SAM transform's own virtualenv (infra/requirements-sam.txt), made by `make lint` in SAM_VENV (.venv/sam unless
# given); `make lint SAM_VENV=/tmp/sam` passes its Python here, for a .venv shared with another checkout.
SAM_PYTHON = Path(os.environ.get("HEALTHCODE_SAM_PYTHON") or ROOT / ".venv" / "sam" / "bin" / "python")


def translate(out: Path, app: Any) -> Path:
    """out/sam.json after the SAM transform (infra/sam_translate.py), checked where it matters."""
    path = out / "cloudformation.json"
    subprocess.run([str(SAM_PYTHON), str(ROOT / "infra" / "sam_translate.py"), str(out / "sam.json"), str(path)],
                   check=True)
    translated = json.loads(path.read_text())
    mappings = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    wanted = sorted(json.dumps({"Fn::GetAtt": [t, "StreamArn"]}) for t in stream_triggers(app).values())
    if sorted(json.dumps(m["Properties"]["EventSourceArn"]) for m in mappings) != wanted:
        raise SystemExit("after the SAM transform, the stream mappings do not read the tables' streams")
    if any({k: m["Properties"].get(k) for k in STREAM_MAPPING} != STREAM_MAPPING for m in mappings):
        raise SystemExit("after the SAM transform, a stream mapping lacks the settings of STREAM_MAPPING")
    if len(translated["Resources"]) > MAX_RESOURCES:
        raise SystemExit(f"after the SAM transform the stack has {len(translated['Resources'])} resources, "
                         f"over CloudFormation's {MAX_RESOURCES}")
    body = translated["Resources"]["RestAPI"]["Properties"]["Body"]
    if set(body.get("x-amazon-apigateway-gateway-responses", {})) != set(GATEWAY_RESPONSES):
        raise SystemExit("after the SAM transform, the API definition lacks our gateway responses")
    return path


def lint(out: Path) -> None:
    started = time.monotonic()
    translated = translate(out, load_app())
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(out / "sam.json"), str(translated)], cwd=ROOT)
    if result.returncode != 0:  # errors, and warnings too: 0 is "no finding at all"
        raise SystemExit(f"cfn-lint found problems (exit {result.returncode})")
    print(f"cfn-lint: out/sam.json and out/cloudformation.json (after the SAM transform) clean; "
          f"{time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "out"), help="output folder (default: out/)")
    parser.add_argument("--no-build", action="store_true", help="check an existing out/ without packaging again")
    parser.add_argument("--lint", action="store_true", help="only lint an existing out/ (SAM transform + cfn-lint)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.lint:
        lint(out)
        return 0
    app = load_app()
    started = time.monotonic()
    if not args.no_build:
        out.mkdir(parents=True, exist_ok=True)
        merge = out / "merge-template.json"
        merge.write_text(json.dumps(merge_template(app), indent=2, ensure_ascii=False) + "\n")
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1")}
        chalice = Path(sys.executable).with_name("chalice")
        subprocess.run([str(chalice), "package", "--stage", STAGE, "--merge-template", str(merge), str(out)],
                       cwd=ROOT, env=env, check=True)
        build_only.drop(out / "deployment.zip")
        bytecode.compile_bundle(out / "deployment.zip")
    template = json.loads((out / "sam.json").read_text())
    figures = check(app, template, out / "deployment.zip")
    mb = 1024 * 1024
    print(f"out/sam.json: {figures['resources']} resources, {figures['functions']} functions, "
          f"{figures['split_routes']} of {figures['routes']} routes on split functions; "
          f"role policy {inline_policy_chars(template)} of {MAX_INLINE_POLICY} characters")
    print(f"out/deployment.zip: {figures['zipped']:,} bytes zipped (budget {BUDGET_ZIPPED:,}, Lambda's limit "
          f"{MAX_ZIPPED // mb} MiB), "
          f"{figures['unzipped'] / mb:.1f} MB unzipped (limit {MAX_UNZIPPED // mb}), {figures['files']} files "
          f"({figures['bytecode']} compiled modules); "
          f"{time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
