"""Create the tables of infra/template.json in DynamoDB Local, idempotently.

The CloudFormation file is the one definition of every table; this reads it and
issues the matching CreateTable / UpdateTimeToLive calls. Options that DynamoDB
Local ignores or rejects (point-in-time recovery, deletion protection, SSE) are
AWS-only and skipped here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.json"
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


def create_request(props: dict[str, Any], prefix: str) -> dict[str, Any]:
    request = {key: props[key] for key in _CREATE_KEYS if key in props}
    request["TableName"] = resolve_name(props["TableName"], prefix)
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    return request


def add_missing_indexes(client: Any, request: dict[str, Any]) -> list[str]:
    """Migrate an existing table: create the template's global indexes it lacks, one at a time."""
    name = request["TableName"]
    have = {g["IndexName"] for g in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    added = []
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        client.update_table(TableName=name, AttributeDefinitions=request["AttributeDefinitions"],
                            GlobalSecondaryIndexUpdates=[{"Create": index}])
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        added.append(f"{name}.{index['IndexName']}")
    return added


def bootstrap(client: Any, prefix: str, template_path: Path = TEMPLATE) -> list[str]:
    """Create missing tables, TTL settings and indexes; return what was created."""
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    created = []
    for props in table_resources(template_path).values():
        request = create_request(props, prefix)
        name = request["TableName"]
        if name not in existing:
            client.create_table(**request)
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
            created.append(name)
        else:
            created += add_missing_indexes(client, request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and (name in created or client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                                                    .get("TimeToLiveStatus") == "DISABLED"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return created
