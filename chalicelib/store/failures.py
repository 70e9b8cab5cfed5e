"""The failures table: stream records a handler could not handle, with their error, until they are handled.

A record that raises is counted here (`record_attempt`); chalicelib/events/batches.py decides when it is
dead (`bury`). Dead records are kept with the stream record as Lambda delivered it, so ops can list
them and replay them through the same handler (`replayed`, `replay_failed`); `store_dead` keeps the
records of a whole batch Lambda gave up on (its on-failure destination's message, read back from the
stream). The key layout is this module's: callers name a record by its source and record id.
"""
from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.store import dynamo

KIND = "failures"
DEAD_INDEX = "dead"
DEAD_LIST = "dead"             # the one partition of the sparse index: a few dead records, not a hot key
RETRYING_KEEP_SECONDS = 2 * 86400   # Lambda gives a record up after hours (infra/package.py); then it is dead or done
DEAD_KEEP_SECONDS = 30 * 86400      # as long as the events table keeps an event: the copy outlives nothing
REPLAYED_KEEP_SECONDS = 2 * 86400   # handled at last; the log line of the replay remains
MAX_ERROR_CHARS = 1000
_NAMES = {"#s": "status", "#k": "keys", "#src": "source"}   # reserved words of DynamoDB's expressions
# DynamoDB's item limit is 400 KB; a stream record carries up to two images of an item, so a large one is
# stored compressed (JSON of an item compresses 5-10 fold) rather than not at all
_PLAIN_LIMIT = 200_000


@dataclass(frozen=True)
class Error:
    type: str
    message: str
    where: str = ""            # file:line function of the innermost frame, when known


@dataclass(frozen=True)
class Failure:
    id: str                    # "<source>#<record id>": what ops names it by
    source: str                # the stream function: events, scans, ...
    record_id: str             # the event id for events; the stream record's eventID otherwise
    status: str                # retrying | dead | replayed
    attempts: int
    error: Error
    record: dict[str, Any]     # the stream record, as Lambda delivered it
    first_failed_at: int
    failed_at: int
    dead_at: int | None
    replayed_at: int | None
    expires_at: int

    @property
    def sequence_number(self) -> str:
        return str(self.record.get("dynamodb", {}).get("SequenceNumber", ""))

    @property
    def stream_event_id(self) -> str:
        return str(self.record.get("eventID", ""))

    @property
    def keys(self) -> dict[str, Any]:
        return dynamo.from_item(self.record.get("dynamodb", {}).get("Keys")) or {}

    @property
    def what(self) -> str:
        """A word on what failed: an event's type, else the stream operation (INSERT, MODIFY, ...)."""
        image = self.record.get("dynamodb", {}).get("NewImage") or {}
        kind = image.get("type", {}).get("S") if isinstance(image.get("type"), dict) else None
        return kind or str(self.record.get("eventName", ""))


def failure_id(source: str, record_id: str) -> str:
    return f"{source}#{record_id}"


def _pack(record: dict[str, Any]) -> dict[str, str]:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= _PLAIN_LIMIT:
        return {"stream_record": text}
    return {"stream_record_z": base64.b64encode(zlib.compress(text.encode(), 9)).decode()}


def _unpack(item: dict[str, Any]) -> dict[str, Any]:
    if "stream_record" in item:
        return json.loads(item["stream_record"])
    if "stream_record_z" in item:
        return json.loads(zlib.decompress(base64.b64decode(item["stream_record_z"])))
    return {}


def _failure(item: dict[str, Any] | None) -> Failure:
    if item is None:  # an UpdateItem asked for ALL_NEW always answers the item
        raise LookupError("no failures item")
    return Failure(id=item["pk"], source=item["source"], record_id=item["record_id"], status=item["status"],
                   attempts=int(item.get("attempts", 0)),
                   error=Error(item.get("error_type", ""), item.get("error_message", ""), item.get("error_where", "")),
                   record=_unpack(item), first_failed_at=int(item["first_failed_at"]),
                   failed_at=int(item["failed_at"]), dead_at=item.get("dead_at"),
                   replayed_at=item.get("replayed_at"), expires_at=int(item["expires_at"]))


def _error_values(error: Error) -> dict[str, Any]:
    return {":et": error.type[:200], ":em": error.message[:MAX_ERROR_CHARS], ":ew": error.where}


def _record_values(source: str, record_id: str, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    packed = _pack(record)
    (attribute, text), = packed.items()
    keys = dynamo.from_item(record.get("dynamodb", {}).get("Keys")) or {}
    expression = (f"#src = :src, record_id = :rid, {attribute} = :rec, stream_event_id = :sid, "
                  "sequence_number = :seq, #k = :keys")
    return expression, {":src": source, ":rid": record_id, ":rec": text, ":sid": str(record.get("eventID", "")),
                        ":seq": str(record.get("dynamodb", {}).get("SequenceNumber", "")), ":keys": keys}


def record_attempt(source: str, record_id: str, record: dict[str, Any], error: Error, now: int) -> Failure:
    """Count one failed attempt at a record and keep its latest error; returns the record with its count.

    A new record is `retrying`; one that is dead (or was replayed) keeps its status, so a redelivered dead
    record stays listed. Retrying records expire after RETRYING_KEEP_SECONDS."""
    record_expression, values = _record_values(source, record_id, record)
    item = dynamo.update(
        KIND, {"pk": failure_id(source, record_id)},
        f"SET {record_expression}, error_type = :et, error_message = :em, error_where = :ew, failed_at = :now, "
        "first_failed_at = if_not_exists(first_failed_at, :now), #s = if_not_exists(#s, :retrying), "
        "expires_at = :expires ADD attempts :one",
        {**values, **_error_values(error), ":now": now, ":retrying": "retrying", ":one": 1,
         ":expires": now + RETRYING_KEEP_SECONDS},
        names=_NAMES)
    return _failure(item)


def bury(id: str, now: int) -> Failure:
    """Make a counted record dead: listed by `dead`, kept DEAD_KEEP_SECONDS."""
    item = dynamo.update(KIND, {"pk": id},
                         "SET #s = :dead, dead_list = :list, dead_at = :now, expires_at = :expires",
                         {":dead": "dead", ":list": DEAD_LIST, ":now": now, ":expires": now + DEAD_KEEP_SECONDS},
                         condition="attribute_exists(pk)", names={"#s": "status"})
    return _failure(item)


def store_dead(source: str, record_id: str, record: dict[str, Any], error: Error, attempts: int,
               now: int) -> Failure:
    """Keep a record of a batch Lambda gave up on as dead, whatever was known of it before."""
    record_expression, values = _record_values(source, record_id, record)
    item = dynamo.update(
        KIND, {"pk": failure_id(source, record_id)},
        f"SET {record_expression}, error_type = :et, error_message = :em, error_where = :ew, failed_at = :now, "
        "first_failed_at = if_not_exists(first_failed_at, :now), #s = :dead, dead_list = :list, dead_at = :now, "
        "expires_at = :expires, attempts = if_not_exists(attempts, :zero) + :n",
        {**values, **_error_values(error), ":now": now, ":dead": "dead", ":list": DEAD_LIST, ":zero": 0,
         ":n": attempts, ":expires": now + DEAD_KEEP_SECONDS},
        names=_NAMES)
    return _failure(item)


def get(id: str) -> Failure | None:
    item = dynamo.get(KIND, {"pk": id}, consistent=True)
    return _failure(item) if item is not None else None


def dead(source: str | None = None, limit: int | None = None) -> list[Failure]:
    """Dead records, newest first (the sparse index holds only those)."""
    values: dict[str, Any] = {":list": DEAD_LIST}
    options: dict[str, Any] = {}
    if source:
        values[":src"] = source
        options = {"filter_expression": "#src = :src", "names": {"#src": "source"}}
    found: list[Failure] = []
    start = None
    while limit is None or len(found) < limit:
        page, start = dynamo.query(KIND, "dead_list = :list", values, index=DEAD_INDEX, forward=False, start=start,
                                   **options)
        found += [f for f in map(_failure, page) if f.status == "dead"]
        if start is None:
            break
    return found[:limit] if limit is not None else found


def replayed(id: str, now: int) -> Failure | None:
    """A dead record was handled by a replay: no longer listed, kept REPLAYED_KEEP_SECONDS. None if it is
    not dead (replayed already, or unknown)."""
    try:
        item = dynamo.update(KIND, {"pk": id},
                             "SET #s = :replayed, replayed_at = :now, expires_at = :expires REMOVE dead_list",
                             {":replayed": "replayed", ":now": now, ":expires": now + REPLAYED_KEEP_SECONDS,
                              ":dead": "dead"},
                             condition="#s = :dead", names={"#s": "status"})
    except dynamo.ConditionFailed:
        return None
    return _failure(item)


def replay_failed(id: str, error: Error, now: int) -> Failure:
    """A replay raised: the record stays dead, with this error and one more attempt."""
    item = dynamo.update(KIND, {"pk": id},
                         "SET error_type = :et, error_message = :em, error_where = :ew, failed_at = :now "
                         "ADD attempts :one",
                         {**_error_values(error), ":now": now, ":one": 1}, condition="attribute_exists(pk)")
    return _failure(item)
