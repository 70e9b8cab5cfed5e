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

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = 100          # items per Scan page: four BatchWriteItem calls
BATCH = 25          # BatchWriteItem's limit
MAX_UNPROCESSED_ROUNDS = 8
ROUNDS = 3          # passes over the personal tables: items written while the first ran are caught by the next
PURPOSE = "emergency-end"
TYP = "healthcode-attestation+jwt"


class Interrupted(Exception):
    """The batch budget (`--max-batches`) ran out: the progress is saved, the same command resumes."""


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


@dataclass
class State:
    """What a run has done, kept in a local JSON file between runs."""
    path: Path
    stage: str
    segments: int
    ended_at: int | None = None
    before: dict[str, int] = field(default_factory=dict)
    round: int = 1
    # table -> segment (as a string) -> {"key": LastEvaluatedKey or None, "done": bool}
    progress: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    pepper_rotated_at: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path, stage: str, segments: int) -> State:
        if not path.exists():
            return cls(path, stage, segments)
        data = json.loads(path.read_text())
        if data["stage"] != stage:
            raise ValueError(f"{path} is the state of stage {data['stage']}, not {stage}")
        return cls(path, stage, int(data["segments"]), data.get("ended_at"), data.get("before", {}),
                   int(data.get("round", 1)), data.get("progress", {}), data.get("deleted", {}),
                   data.get("pepper_rotated_at"))

    def save(self) -> None:
        with self._lock:
            data = {"stage": self.stage, "segments": self.segments, "ended_at": self.ended_at, "before": self.before,
                    "round": self.round, "progress": self.progress, "deleted": self.deleted,
                    "pepper_rotated_at": self.pepper_rotated_at}
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(self.path)

    def segment(self, table: str, segment: int) -> dict[str, Any]:
        with self._lock:
            return self.progress.setdefault(table, {}).setdefault(str(segment), {"key": None, "done": False})

    def advance(self, table: str, segment: int, key: dict[str, Any] | None, deleted: int) -> None:
        with self._lock:
            self.progress[table][str(segment)] = {"key": key, "done": key is None}
            self.deleted[table] = self.deleted.get(table, 0) + deleted
        self.save()

    def table_done(self, table: str) -> bool:
        with self._lock:
            done = self.progress.get(table, {})
            return all(done.get(str(s), {}).get("done") for s in range(self.segments))


class Budget:
    """How many BatchWriteItem calls this run may still make (None: no limit); shared by the segments' threads."""

    def __init__(self, batches: int | None):
        self.left = batches
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.left is not None:
                if self.left <= 0:
                    raise Interrupted
                self.left -= 1


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
