"""Create the tables of infra/template.json, idempotently: in DynamoDB Local (`make run`, the tests, the bench)
and in AWS (the ops CLI's `tables create` / `migrate`).

The CloudFormation file is the one definition of every table; this reads it and
issues the matching CreateTable / UpdateTimeToLive calls. Options that DynamoDB
Local ignores or rejects (point-in-time recovery, deletion protection, SSE) are
AWS-only: skipped here, applied with `aws=True` (the ops CLI against AWS; in prod the
tables normally belong to the CloudFormation stack, docs/deploy.md).
"""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "template.json"
_CREATE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                "BillingMode", "StreamSpecification")


def table_resources(template_path: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    template = json.loads(template_path.read_text("utf-8"))
    return {name: res["Properties"] for name, res in template["Resources"].items()
            if res["Type"] == "AWS::DynamoDB::Table"}


def resolve_name(value: Any, prefix: str) -> str:
    """TableName is {"Fn::Sub": "${TablePrefix}-x"}; the only parameter we substitute."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${TablePrefix}", prefix)
    return str(value)


def create_request(props: dict[str, Any], prefix: str, aws: bool = False) -> dict[str, Any]:
    request = {key: props[key] for key in _CREATE_KEYS if key in props}
    request["TableName"] = resolve_name(props["TableName"], prefix)
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    if aws:
        if "DeletionProtectionEnabled" in props:
            request["DeletionProtectionEnabled"] = props["DeletionProtectionEnabled"]
        sse = props.get("SSESpecification")
        if sse:  # CloudFormation says SSEEnabled where the API says Enabled
            request["SSESpecification"] = {"Enabled": sse["SSEEnabled"],
                                           **{k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse}}
    return request


def wait_active(client: Any, name: str, aws: bool = False) -> None:
    """Until the table and every index are ACTIVE: seconds locally, minutes in AWS (index back-fills)."""
    # (DynamoDB Local on disk never finishes an index change of a stored table, and in memory never
    # finishes deleting one: `make run` starts afresh instead, infra/local/run.py. Creating one in
    # memory takes about a second.)
    delay, deadline = (5.0, time.monotonic() + 3600) if aws else (0.2, time.monotonic() + 30)
    while True:
        table = client.describe_table(TableName=name)["Table"]
        pending = {g["IndexName"]: g.get("IndexStatus") for g in table.get("GlobalSecondaryIndexes", [])
                   if g.get("IndexStatus", "ACTIVE") != "ACTIVE"}
        if table["TableStatus"] == "ACTIVE" and not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} is not ACTIVE yet (table {table['TableStatus']}, indexes {pending})")
        time.sleep(delay)


def add_missing_indexes(client: Any, request: dict[str, Any], aws: bool = False) -> list[str]:
    """Migrate an existing table: create the template's global indexes it lacks, one at a time."""
    name = request["TableName"]
    have = {g["IndexName"] for g in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    added = []
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        client.update_table(TableName=name, AttributeDefinitions=request["AttributeDefinitions"],
                            GlobalSecondaryIndexUpdates=[{"Create": index}])
        wait_active(client, name, aws)
        added.append(f"{name}.{index['IndexName']}")
    return added


def index_drift(client: Any, prefix: str, template_path: Path = TEMPLATE) -> dict[str, tuple[list[str], list[str]]]:
    """Existing tables whose global indexes differ from the template: name -> (missing, no longer defined)."""
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    drift = {}
    for props in table_resources(template_path).values():
        request = create_request(props, prefix)
        name = request["TableName"]
        if name not in existing:
            continue
        wanted = {g["IndexName"] for g in request.get("GlobalSecondaryIndexes", [])}
        table = client.describe_table(TableName=name)["Table"]
        have = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
        if wanted != have:
            drift[name] = (sorted(wanted - have), sorted(have - wanted))
    return drift


def bootstrap(client: Any, prefix: str, template_path: Path = TEMPLATE, aws: bool = False,
              progress: Callable[[str], None] | None = None) -> list[str]:
    """Create missing tables, TTL settings and indexes; return what was created.

    `aws`: also deletion protection, encryption and point-in-time recovery, and wait as long as AWS
    takes. `progress` is called with each table's name once it is done."""
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    created = []
    for props in table_resources(template_path).values():
        request = create_request(props, prefix, aws)
        name = request["TableName"]
        if name not in existing:
            # botocore retried a CreateTable whose first attempt had landed (a read timeout on a loaded
            # machine), or another bootstrap got there first: the table is there, which is what was asked
            with contextlib.suppress(client.exceptions.ResourceInUseException):
                client.create_table(**request)
            wait_active(client, name, aws)
            created.append(name)
            pitr = props.get("PointInTimeRecoverySpecification")
            if aws and pitr:
                client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
        else:
            created += add_missing_indexes(client, request, aws)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and (name in created or client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                                                    .get("TimeToLiveStatus") == "DISABLED"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        if progress:
            progress(name)
    return created
