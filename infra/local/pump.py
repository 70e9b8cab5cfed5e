"""The local stand-in for Lambda's event sources: read DynamoDB Local's streams, run the schedule.

It hands Lambda-shaped events to the very functions app.py registers with
`@app.on_dynamodb_record` and `@app.schedule`, so the code run locally and in
tests is the code Lambda runs. Like Lambda, a batch whose handler raises is
retried from the same position, so nothing is lost.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("healthcode.pump")
Handler = Callable[[dict[str, Any], Any], Any]
DISCOVER_SECONDS = 1.0


def _lambda_record(record: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": body, "eventSourceARN": arn}


@dataclass
class StreamSource:
    table: str
    handler: Handler
    batch_size: int = 100
    arn: str = ""
    iterators: dict[str, str | None] = field(default_factory=dict)   # shard id -> iterator (None: closed)
    last_sequence: dict[str, str] = field(default_factory=dict)
    discovered_at: float = float("-inf")


class Pump:
    def __init__(self, dynamodb: Any, streams: Any, sources: list[StreamSource],
                 schedules: list[tuple[float, Handler]] = (), region: str = "cn-north-1"):
        self.dynamodb, self.streams, self.sources = dynamodb, streams, sources
        self.schedules = [[interval, handler, 0.0] for interval, handler in schedules]
        self.region = region
        self._stop = threading.Event()
        self.failures = 0

    def start_at_latest(self) -> "Pump":
        """Skip what is already in the streams (tests start from a clean position).

        Reads to the end rather than asking for a LATEST iterator: DynamoDB Local
        numbers stream records across all tables, and a LATEST iterator taken on
        an empty shard fails later with TrimmedDataAccessException.
        """
        for source in self.sources:
            self._discover(source, "TRIM_HORIZON")
            for shard, iterator in list(source.iterators.items()):
                while iterator is not None:
                    page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                    if page.get("Records"):
                        source.last_sequence[shard] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                    iterator = page.get("NextShardIterator")
                    if not page.get("Records"):
                        break
                source.iterators[shard] = iterator
        return self

    def _discover(self, source: StreamSource, position: str) -> None:
        source.discovered_at = time.monotonic()
        source.arn = self.dynamodb.describe_table(TableName=source.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=source.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in source.iterators:
                source.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=source.arn, ShardId=shard["ShardId"], ShardIteratorType=position)["ShardIterator"]

    def _reposition(self, source: StreamSource, shard: str) -> None:
        if shard in source.last_sequence:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": source.last_sequence[shard]}
        else:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        source.iterators[shard] = self.streams.get_shard_iterator(StreamArn=source.arn, ShardId=shard,
                                                                  **kwargs)["ShardIterator"]

    def poll_once(self) -> int:
        """One pass over every shard; returns how many records were handed to handlers (a failed
        batch counts too: it is waiting to be retried)."""
        handled = 0
        for source in self.sources:
            # new shards are read from their start; looked for once a second, as describing the table and its
            # stream on every pass cost as much as the handlers of a busy fan-out
            if time.monotonic() - source.discovered_at >= DISCOVER_SECONDS:
                self._discover(source, "TRIM_HORIZON")
            for shard, iterator in list(source.iterators.items()):
                if iterator is None:
                    continue
                try:
                    page = self.streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
                except (self.streams.exceptions.ExpiredIteratorException,
                        self.streams.exceptions.TrimmedDataAccessException):
                    self._reposition(source, shard)
                    page = self.streams.get_records(ShardIterator=source.iterators[shard], Limit=source.batch_size)
                records = page.get("Records", [])
                if records:
                    event = {"Records": [_lambda_record(r, source.arn, self.region) for r in records]}
                    try:
                        source.handler(event, None)
                    except Exception:
                        # like Lambda: the batch is retried from the same position
                        self.failures += 1
                        log.exception("handler for %s failed; retrying the batch", source.table)
                        self._reposition(source, shard)
                        handled += len(records)
                        continue
                    source.last_sequence[shard] = records[-1]["dynamodb"]["SequenceNumber"]
                    handled += len(records)
                source.iterators[shard] = page.get("NextShardIterator")
        return handled

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

    def run_forever(self, poll_seconds: float = 0.5) -> None:
        while not self._stop.is_set():
            try:
                found = self.poll_once()
                self.run_schedules()
            except Exception:
                log.exception("pump pass failed")
                found = 0
            if not found:
                self._stop.wait(poll_seconds)

    def stop(self) -> None:
        self._stop.set()


def scheduled_event() -> dict[str, Any]:
    """A CloudWatch Events scheduled event, as Lambda would deliver it."""
    return {"version": "0", "id": "local", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "cn-north-1", "resources": [], "detail": {}}


def for_app(app_module: Any, dynamodb: Any, streams: Any, table_prefix: str) -> Pump:
    """The pump for this app: the events, work and people tables' streams, the sweepers every few seconds (faster than
    in AWS, so a local receiver sees retries without waiting minutes)."""
    return Pump(dynamodb, streams, [StreamSource(f"{table_prefix}-events", app_module.on_events),
                                    StreamSource(f"{table_prefix}-work", app_module.on_work, batch_size=10),
                                    StreamSource(f"{table_prefix}-people", app_module.on_people)],
                schedules=[(60.0, app_module.sweeper), (5.0, app_module.webhook_retries)])
