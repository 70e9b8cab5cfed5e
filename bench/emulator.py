"""DynamoDB Local as shipped beside DynamoDB Local with its stream records indexed.

Each kind gets a DynamoDB Local of its own on a scratch database. Three stream-enabled tables are
created in turn; the first two take `records` puts each; then GetItem and UpdateItem (ALL_NEW, a
~1.8 KB item, as the verify's) on the third are timed as raw HTTP requests, so no client library's
cost is in the figures. As shipped, each request to the third table walks the first two tables'
stream records (infra/local/dynamodb_local.py has the query).
"""
from __future__ import annotations

import time
from typing import Any

from bench import stats
from bench.verify_latency import RawDynamo
from infra.local.dynamodb_local import DynamoDBLocal

STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def _table(raw: RawDynamo, name: str) -> None:
    raw.call("CreateTable", {"TableName": name, "BillingMode": "PAY_PER_REQUEST", "StreamSpecification": STREAM,
                             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})


def _timed(step: Any, n: int) -> stats.Latency:
    samples = []
    began = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        step(i)
        samples.append(time.perf_counter_ns() - t0)
    return stats.latency(samples, time.perf_counter() - began)


def measure(stream_index: bool, records: int, n: int) -> dict[str, stats.Latency]:
    with DynamoDBLocal(stream_index=stream_index) as ddb:
        raw = RawDynamo(ddb.endpoint)
        for name in ("first", "second"):
            _table(raw, name)
            for i in range(records):
                raw.call("PutItem", {"TableName": name, "Item": {"pk": {"S": f"p{i}"}}})
        _table(raw, "third")
        blob = "x" * 1800
        for i in range(100):
            raw.call("PutItem", {"TableName": "third", "Item": {"pk": {"S": f"p{i}"}, "blob": {"S": blob}}})

        def get(i: int) -> Any:
            return raw.call("GetItem", {"TableName": "third", "Key": {"pk": {"S": f"p{i % 100}"}}})

        def update(i: int) -> Any:
            return raw.call("UpdateItem", {
                "TableName": "third", "Key": {"pk": {"S": f"p{i % 100}"}}, "UpdateExpression": "SET seen = :i",
                "ExpressionAttributeValues": {":i": {"N": str(i)}}, "ReturnValues": "ALL_NEW"})

        _timed(get, 300), _timed(update, 300)  # JIT warm-up
        return {"GetItem": _timed(get, n), "UpdateItem": _timed(update, n)}


def run(records: int = 3000, n: int = 1000) -> dict[str, dict[str, stats.Latency]]:
    return {"as shipped": measure(False, records, n), "stream records indexed": measure(True, records, n)}
