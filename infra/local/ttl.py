"""The local stand-in for DynamoDB's TTL deletions: delete every item whose TTL attribute has passed.

DynamoDB Local accepts UpdateTimeToLive and does delete expired items by itself, but not as a test can rely
on (measured with the 2026-01-16 jar, docs/retention.md#on-dynamodb-local): about 10 s after it starts it
deletes the expired items of the few tables (at most three were seen) that hold one at that moment, and then
only ever those tables' again; an item of a table with a global secondary index is never deleted while it is
not in that (sparse) index. Tests therefore call `reap`, as the pump stands in for Lambda's event sources.

Like AWS, `reap` judges by the wall clock (not the app's, which tests move), and deletes each item only if it
is still expired (a write that moved its TTL since wins); each deletion reaches the table's stream as a
REMOVE record, as a TTL deletion does.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from infra import bootstrap


def ttl_tables(prefix: str, template_path: Path = bootstrap.TEMPLATE) -> dict[str, str]:
    """table name -> its TTL attribute, for each table of the template that enables TTL."""
    found = {}
    for props in bootstrap.table_resources(template_path).values():
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            found[bootstrap.resolve_name(props["TableName"], prefix)] = ttl["AttributeName"]
    return found


def reap(client: Any, prefix: str, now: float | None = None) -> dict[str, int]:
    """Delete what has expired by `now` (default: the wall clock): the count deleted, per table."""
    moment = int(time.time() if now is None else now)
    deleted: dict[str, int] = {}
    for table, attribute in ttl_tables(prefix).items():
        keys = [k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]]
        names = {f"#k{i}": k for i, k in enumerate(keys)} | {"#t": attribute}
        request: dict[str, Any] = {"TableName": table, "FilterExpression": "#t < :now",
                                   "ProjectionExpression": ", ".join(n for n in names if n != "#t"),
                                   "ExpressionAttributeNames": names,
                                   "ExpressionAttributeValues": {":now": {"N": str(moment)}}}
        while True:
            page = client.scan(**request)
            for item in page["Items"]:
                try:
                    client.delete_item(TableName=table, Key=item, ConditionExpression="#t < :now",
                                       ExpressionAttributeNames={"#t": attribute},
                                       ExpressionAttributeValues={":now": {"N": str(moment)}})
                    deleted[table] = deleted.get(table, 0) + 1
                except client.exceptions.ConditionalCheckFailedException:
                    pass
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return deleted
