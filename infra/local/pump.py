"""The local stand-in for Lambda's event sources: read DynamoDB Local's streams, run the schedule.

It hands Lambda-shaped events to the very functions app.py registers with `@app.on_dynamodb_record`
and `@app.schedule`, so the code run locally and in tests is the code Lambda runs. It treats their
answers as an event source mapping with the settings infra/package.py deploys (STREAM_MAPPING):

- a partial batch response (`batchItemFailures`, ReportBatchItemFailures): the records before the
  lowest sequence number reported are done, and the batch is retried from that record;
- a handler that raises (a function error): the batch is split in two and each half is invoked in
  turn (BisectBatchOnFunctionError; a split is not a retry), down to single records;
- a retry that makes no progress counts; after MaximumRetryAttempts of them the mapping gives up on
  what is left of the batch: it builds the message AWS sends the mapping's on-failure destination
  and hands it to `on_failure` (for the app, chalicelib/events/batches.recover, the function
  `python -m ops events recover` runs on the queue's messages in AWS), and reads on.

Not modelled: MaximumRecordAgeInSeconds (a pump started anew reads its streams from their start, and
handlers are idempotent), and Lambda's parallel invocations of one shard's batches.
Each stream is one source, polled by a thread of its own in `run_forever` (Lambda runs each mapping
on its own); `poll_once` and `drain` poll them in turn, in one thread, for tests.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store.streams import lambda_record
from infra.package import STREAM_MAPPING

log = logging.getLogger("healthcode.pump")
Handler = Callable[[dict[str, Any], Any], Any]
Batch = list[dict[str, Any]]
# Describing a table and its stream on every pass cost as much as the handlers of a busy fan-out; new
# shards are looked for once a second instead.
DISCOVER_SECONDS = 1.0


@dataclass
class _Shard:
    iterator: str | None                 # reads on after the last record read; None once the shard is closed
    last_read: str | None = None         # to get a new iterator if this one expires
    pending: deque[Batch] = field(default_factory=deque)   # read but not done: invoked before reading on
    retries: int = 0                     # retries of the batch at the head that made no progress


@dataclass
class StreamSource:
    table: str
    handler: Handler
    function: str = ""                   # the function's name, as the on-failure message names it
    batch_size: int = 100
    arn: str = ""
    shards: dict[str, _Shard] = field(default_factory=dict)
    discovered_at: float = float("-inf")


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Pump:
    def __init__(self, dynamodb: Any, streams: Any, sources: list[StreamSource],
                 schedules: Sequence[tuple[float, Handler]] = (), region: str = "cn-north-1",
                 on_failure: Callable[[dict[str, Any]], Any] | None = None,
                 retry_attempts: int = STREAM_MAPPING["MaximumRetryAttempts"]):
        self.dynamodb, self.streams, self.sources = dynamodb, streams, sources
        self.schedules: list[list[Any]] = [[interval, handler, 0.0] for interval, handler in schedules]
        self.region = region
        self.on_failure = on_failure
        self.retry_attempts = retry_attempts
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.failures = 0                            # invocations that raised or reported a failed record
        self.given_up: list[dict[str, Any]] = []     # on-failure messages, as the destination would hold them

    def start_at_latest(self) -> Pump:
        """Skip what is already in the streams (tests start from a clean position).

        Reads to the end rather than asking for a LATEST iterator: DynamoDB Local
        numbers stream records across all tables, and a LATEST iterator taken on
        an empty shard fails later with TrimmedDataAccessException.
        """
        for source in self.sources:
            self._discover(source)
            for shard in source.shards.values():
                while shard.iterator is not None:
                    page = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
                    if page.get("Records"):
                        shard.last_read = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                    shard.iterator = page.get("NextShardIterator")
                    if not page.get("Records"):
                        break
        return self

    def _discover(self, source: StreamSource) -> None:
        """New shards are read from their start."""
        source.discovered_at = time.monotonic()
        source.arn = self.dynamodb.describe_table(TableName=source.table)["Table"]["LatestStreamArn"]
        for found in self.streams.describe_stream(StreamArn=source.arn)["StreamDescription"]["Shards"]:
            if found["ShardId"] not in source.shards:
                source.shards[found["ShardId"]] = _Shard(self.streams.get_shard_iterator(
                    StreamArn=source.arn, ShardId=found["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"])

    def _reposition(self, source: StreamSource, shard_id: str, shard: _Shard) -> None:
        if shard.last_read is not None:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_read}
        else:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        shard.iterator = self.streams.get_shard_iterator(StreamArn=source.arn, ShardId=shard_id,
                                                         **kwargs)["ShardIterator"]

    def _next_batch(self, source: StreamSource, shard_id: str, shard: _Shard) -> Batch:
        if shard.pending:
            return shard.pending.popleft()
        if shard.iterator is None:
            return []
        try:
            page = self.streams.get_records(ShardIterator=shard.iterator, Limit=source.batch_size)
        except (self.streams.exceptions.ExpiredIteratorException,
                self.streams.exceptions.TrimmedDataAccessException):
            self._reposition(source, shard_id, shard)
            page = self.streams.get_records(ShardIterator=shard.iterator, Limit=source.batch_size)
        records = page.get("Records", [])
        shard.iterator = page.get("NextShardIterator")
        if records:
            shard.last_read = records[-1]["dynamodb"]["SequenceNumber"]
        return [lambda_record(r, source.arn, self.region) for r in records]

    def poll_source(self, source: StreamSource) -> int:
        """One batch per shard of one stream; returns how many records were handed to its handler (a failed
        batch counts too: it is waiting to be retried)."""
        if time.monotonic() - source.discovered_at >= DISCOVER_SECONDS:
            self._discover(source)
        handled = 0
        for shard_id, shard in list(source.shards.items()):
            batch = self._next_batch(source, shard_id, shard)
            if batch:
                handled += len(batch)
                self._invoke(source, shard_id, shard, batch)
        return handled

    def poll_once(self) -> int:
        """One pass over every stream, in turn."""
        return sum(self.poll_source(source) for source in self.sources)

    def _count_failure(self) -> None:
        with self._lock:
            self.failures += 1

    def _invoke(self, source: StreamSource, shard_id: str, shard: _Shard, batch: Batch) -> None:
        try:
            response = source.handler({"Records": batch}, None)
        except Exception:
            self._count_failure()
            log.exception("handler for %s failed on %d records", source.table, len(batch))
            if len(batch) > 1:
                half = (len(batch) + 1) // 2
                shard.pending.extendleft([batch[half:], batch[:half]])   # the first half first
            else:
                self._retry_or_give_up(source, shard_id, shard, batch, function_error=True)
            return
        failed = first_failure(response, batch)
        if failed is None:
            shard.retries = 0
            return
        self._count_failure()
        if failed > 0:
            shard.retries = 0  # the records before it are done: progress
        log.info("%s reported a failed record; retrying from it", source.table)
        self._retry_or_give_up(source, shard_id, shard, batch[failed:], function_error=False)

    def _retry_or_give_up(self, source: StreamSource, shard_id: str, shard: _Shard, batch: Batch,
                          function_error: bool) -> None:
        if shard.retries < self.retry_attempts:
            shard.retries += 1
            shard.pending.appendleft(batch)
            return
        message = self.on_failure_message(source, shard_id, batch, shard.retries + 1, function_error)
        log.error("gave up on %d records of %s after %d retries; sent to the on-failure destination",
                  len(batch), source.table, shard.retries)
        try:
            if self.on_failure is not None:
                self.on_failure(message)
        except Exception:
            # as a destination that cannot be reached: the batch waits, and is retried once more each pass
            log.exception("the on-failure destination failed; the batch waits")
            shard.pending.appendleft(batch)
            return
        self.given_up.append(message)
        shard.retries = 0

    def on_failure_message(self, source: StreamSource, shard_id: str, batch: Batch, invocations: int,
                           function_error: bool) -> dict[str, Any]:
        """What Lambda sends a DynamoDB stream mapping's on-failure destination when it gives up on a batch
        (the AWS Lambda Developer Guide, "Retaining discarded records for a DynamoDB event source")."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:000000000000:function:{source.function}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
                "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
                "batchSize": len(batch),
                "streamArn": source.arn,
            },
        }

    def drain(self, max_passes: int = 5000) -> int:
        """Poll until a pass finds nothing (handlers may write events and work units that need handling too).

        A pass takes one batch per stream, and a level change alone is 16 units of work or more, so a
        test's burst of changes takes hundreds of passes; the cap only stops a handler that loops."""
        total = 0
        for _ in range(max_passes):
            found = self.poll_once()
            total += found
            if not found:
                return total
        return total

    def run_schedules(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for entry in self.schedules:
            interval, handler, last = entry
            if now - last >= interval:
                entry[2] = now
                try:
                    handler(scheduled_event(), None)
                except Exception:
                    log.exception("scheduled handler failed")

    def _poll_forever(self, source: StreamSource, poll_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                found = self.poll_source(source)
            except Exception:
                log.exception("pump pass over %s failed", source.table)
                found = 0
            if not found:
                self._stop.wait(poll_seconds)

    def run_forever(self, poll_seconds: float = 0.5) -> None:
        """A thread per stream, as Lambda runs each mapping on its own (a slow batch of one stream does not
        hold up the others); the schedules in this one. Returns after `stop()`."""
        threads = [threading.Thread(target=self._poll_forever, args=(source, poll_seconds), daemon=True,
                                    name=f"pump-{source.function or source.table}") for source in self.sources]
        for thread in threads:
            thread.start()
        while not self._stop.is_set():
            self.run_schedules()
            self._stop.wait(poll_seconds)
        for thread in threads:
            thread.join(timeout=30)

    def stop(self) -> None:
        self._stop.set()


def first_failure(response: Any, batch: Batch) -> int | None:
    """Where a partial batch response says to retry from (an index into the batch), or None if the whole
    batch is done. As Lambda: the lowest sequence number reported wins, and an identifier that is empty
    or names no record of the batch fails the whole batch."""
    items = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not items:
        return None
    positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(batch)}
    found = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if identifier not in positions:
            return 0
        found.append(positions[identifier])
    return min(found)


def scheduled_event() -> dict[str, Any]:
    """A CloudWatch Events scheduled event, as Lambda would deliver it."""
    return {"version": "0", "id": "local", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "cn-north-1", "resources": [], "detail": {}}


def stream_sources(app_module: Any, table_prefix: str) -> list[StreamSource]:
    """A source per `@app.on_dynamodb_record` of the app, reading the table its placeholder ARN names
    (`...:table/healthcode-prod-<kind>/stream/...`, app.py) under this stage's prefix."""
    found = []
    for config in app_module.app.event_sources:
        match = re.search(r":table/[^/]*-([^-/]+)/stream/", getattr(config, "stream_arn", None) or "")
        if match is None:
            continue
        handler = getattr(app_module, config.handler_string.rpartition(".")[2])
        found.append(StreamSource(f"{table_prefix}-{match.group(1)}", handler, function=f"{table_prefix}-{config.name}",
                                  batch_size=config.batch_size))
    return found


def for_app(app_module: Any, dynamodb: Any, streams: Any, table_prefix: str) -> Pump:
    """The pump for this app: every stream that triggers a function, the sweepers every few seconds (faster than
    in AWS, so a local receiver sees retries without waiting minutes), and batches given up on kept as dead
    records, as `python -m ops events recover` keeps them in AWS."""
    from chalicelib.events import batches, handlers

    return Pump(dynamodb, streams, stream_sources(app_module, table_prefix),
                schedules=[(60.0, app_module.sweeper), (5.0, app_module.webhook_retries)],
                on_failure=lambda message: batches.recover(message, handlers.SOURCES, streams))
