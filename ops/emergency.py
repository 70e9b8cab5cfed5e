"""The end of the emergency (ops `emergency end`): stop issuing, purge, rotate the pepper away, attest.

docs/deploy.md "Ending the emergency" is the operator's account of it; docs/retention.md says which tables
hold personal data. Only the ops command line runs this: no Lambda function can purge a table.

The purge is bounded and resumable. Each personal table is scanned in parallel segments, a page of at most
PAGE items at a time (key attributes only), and each page is deleted with BatchWriteItem in batches of 25,
retrying the unprocessed items. After every page the segment's LastEvaluatedKey is written to a local state
file (atomically), with the counts taken before the purge began, so a run that stops (Ctrl-C, a lost
connection, `--max-batches`) resumes where its last finished page ended, and the attestation still reports
the counts from before the first run. Deleting is idempotent: a page redone after an interruption deletes
what is left of it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ops.progress import Budget, State

PAGE = 100          # items per Scan page: four BatchWriteItem calls
BATCH = 25          # BatchWriteItem's limit
MAX_UNPROCESSED_ROUNDS = 8
ROUNDS = 3          # passes over the personal tables: items written while the first ran are caught by the next
PURPOSE = "emergency-end"
TYP = "healthcode-attestation+jwt"


def personal_tables(prefix: str) -> dict[str, str]:
    """Table name -> its resource in infra/template.json, for every table holding personal data (docs/retention.md:
    every table but the four of infra/package.WITHOUT_PERSONAL_DATA)."""
    from infra import bootstrap
    from infra.package import WITHOUT_PERSONAL_DATA

    return {bootstrap.resolve_name(props["TableName"], prefix): name
            for name, props in bootstrap.table_resources().items() if name not in WITHOUT_PERSONAL_DATA}


def all_tables(prefix: str) -> list[str]:
    from infra import bootstrap

    return [bootstrap.resolve_name(p["TableName"], prefix) for p in bootstrap.table_resources().values()]


def exact_count(client: Any, name: str) -> int:
    total, request = 0, {"TableName": name, "Select": "COUNT"}
    while True:
        page = client.scan(**request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_batch(client: Any, table: str, keys: list[dict[str, Any]], budget: Budget) -> None:
    """One BatchWriteItem of at most 25 deletes, and the items it left unprocessed until none are (backing off)."""
    budget.take()
    requests = {table: [{"DeleteRequest": {"Key": key}} for key in keys]}
    for attempt in range(MAX_UNPROCESSED_ROUNDS):
        answer = client.batch_write_item(RequestItems=requests)
        requests = answer.get("UnprocessedItems") or {}
        if not requests:
            return
        time.sleep(min(0.05 * 2 ** attempt, 2.0))
    raise RuntimeError(f"{table}: DynamoDB left items unprocessed through {MAX_UNPROCESSED_ROUNDS} attempts; "
                       "run the command again to resume")


def purge_segment(client: Any, table: str, key_names: list[str], segment: int, state: State, budget: Budget,
                  tick: Callable[[int], None]) -> None:
    place = state.segment(table, segment)
    if place["done"]:
        return
    projection = ", ".join(f"#k{i}" for i in range(len(key_names)))
    request: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": state.segments,
                               "Limit": PAGE, "ProjectionExpression": projection, "ConsistentRead": True,
                               "ExpressionAttributeNames": {f"#k{i}": n for i, n in enumerate(key_names)}}
    if place["key"]:
        request["ExclusiveStartKey"] = place["key"]
    while True:
        page = client.scan(**request)
        keys = [{n: item[n] for n in key_names} for item in page["Items"]]
        for start in range(0, len(keys), BATCH):
            delete_batch(client, table, keys[start:start + BATCH], budget)
            tick(len(keys[start:start + BATCH]))
        after = page.get("LastEvaluatedKey")
        state.advance(table, segment, after, len(keys))
        if after is None:
            return
        request["ExclusiveStartKey"] = after


def purge(client: Any, tables: list[str], state: State, budget: Budget, tick: Callable[[int], None]) -> None:
    """Every segment of every table not done yet, the segments of a table in parallel threads."""
    for table in tables:
        if state.table_done(table):
            continue
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
        key_names = [k["AttributeName"] for k in schema]
        with ThreadPoolExecutor(max_workers=state.segments) as pool:
            futures = [pool.submit(purge_segment, client, table, key_names, s, state, budget, tick)
                       for s in range(state.segments)]
            errors = [f.exception() for f in futures]
        for error in errors:   # every thread has stopped and saved its progress before one is raised
            if error is not None:
                raise error


def attestation(claims: dict[str, Any]) -> str:
    """The claims as a compact JWS (ES256) signed with the platform's current QR signing key, which
    /.well-known/jwks.json publishes under the `kid` of its header."""
    import jwt

    from chalicelib.security import qr_tokens
    from chalicelib.settings import get_settings

    ring = qr_tokens.key_ring(get_settings().qr_token_ttl, force=True)
    return jwt.encode({**claims, "kid": ring.signing_kid}, ring.signing_key, algorithm=qr_tokens.ALGORITHM,
                      headers={"kid": ring.signing_kid, "typ": TYP})
