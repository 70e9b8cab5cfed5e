"""One stream batch, a record at a time, so that no record can hold up the others.

Every stream-triggered function hands its batch to `run_batch` with a per-record callable, and returns
what it returns: Lambda's partial batch response (`ReportBatchItemFailures`, set on every mapping by
infra/package.py). Lambda then checkpoints before the first failure reported and retries from it, so:

- a record that raises is counted in the failures table (chalicelib/store/failures.py) with its error;
  below MAX_ATTEMPTS the batch stops there and Lambda retries from that record;
- at MAX_ATTEMPTS it is dead: kept with its error and stream record for ops to list and replay
  (`python -m ops events dead`, `replay`), and the batch carries on past it;
- before each record, if less than RESERVE of the invocation's time is left, the batch stops and the
  record is reported without counting an attempt: the next invocation starts with a full timeout.

Whatever the function cannot answer (a crash, a timeout, the failures table unreachable) is Lambda's
to retry: bisected, a bounded number of times, then sent to the mapping's on-failure queue, whose
message `recover` turns into dead records of the same kind. Nothing is lost either way.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import clock
from chalicelib.store import failures, streams

log = logging.getLogger("healthcode.events")

# Three attempts: handlers already retry what is usually transient inside one attempt (botocore retries
# throttling 3 times, versioned updates retry lost races), so a record failing a third time in a row is
# almost surely failing for good, while each attempt holds up every later record of its shard. A dead
# record costs one replay once it is fixed. infra/package.py sets MaximumRetryAttempts above
# MAX_ATTEMPTS - 1 so that these attempts, not Lambda's retry limit, decide.
MAX_ATTEMPTS = 3
# A record must need less than this share of its function's timeout (issue 14: bounded units), so one
# started just before the reserve still finishes, with its failure record and the answer to Lambda.
RESERVE = 0.25
DEAD_LOG_LINE = "stream record dead"   # infra/package.py counts these lines (a metric filter) and alarms on them

Handle = Callable[[dict[str, Any]], object]   # what it returns is not used


def stream_event_id(record: dict[str, Any]) -> str:
    """The record id of a stream record that names nothing better: its eventID, unique per stream record."""
    return str(record["eventID"])


@dataclass(frozen=True)
class Source:
    """A stream whose records `run_batch` handles: how ops replays one record, and how a record is named."""
    name: str                                    # the stream function's name in app.py: events, scans, ...
    replay: Handle                               # one record, through the same code as in a batch
    record_id: Callable[[dict[str, Any]], str] = stream_event_id


class Deadline:
    """When an invocation should stop starting work. Measured from the Lambda context at creation, which is
    the start of the invocation (the remaining time is then the function's timeout). No context (the local
    pump, ops): no deadline."""

    def __init__(self, context: Any) -> None:
        self._remaining: Callable[[], int] | None = getattr(context, "get_remaining_time_in_millis", None)
        self._reserve_ms = self._remaining() * RESERVE if self._remaining else 0.0

    def near(self) -> bool:
        return self._remaining is not None and self._remaining() < self._reserve_ms


class ReplayFailed(Exception):
    def __init__(self, failure: failures.Failure):
        super().__init__(f"{failure.id}: {failure.error.type}: {failure.error.message}")
        self.failure = failure


def error_of(exc: BaseException) -> failures.Error:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}" if frames else ""
    return failures.Error(type(exc).__name__, str(exc), where)


def _failed(sequence_number: str) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}


def run_batch(source: str, records: list[dict[str, Any]], handle: Handle, context: Any, *,
              record_id: Callable[[dict[str, Any]], str] = stream_event_id,
              deadline: Deadline | None = None) -> dict[str, list[dict[str, str]]]:
    """Handle `records` in order with `handle`; returns the partial batch response for Lambda.

    `source` names the stream function (events, scans, ...) in the failures table; `record_id` names a
    record there (default: its eventID); `deadline` defaults to one measured from `context` now."""
    deadline = deadline or Deadline(context)
    for record in records:
        sequence_number = record["dynamodb"]["SequenceNumber"]
        if deadline.near():
            log.warning("stream batch out of time; Lambda retries from the next record",
                        extra={"source": source, "sequence_number": sequence_number})
            return _failed(sequence_number)
        try:
            handle(record)
        except Exception as exc:
            try:
                name = record_id(record)
            except Exception:  # a record too malformed to name: its stream id still names it
                name = stream_event_id(record)
            failure = failures.record_attempt(source, name, record, error_of(exc), clock.now())
            details = {"source": source, "failure_id": failure.id, "attempts": failure.attempts,
                       "error_type": failure.error.type}
            if failure.attempts < MAX_ATTEMPTS:
                log.warning("stream record failed; Lambda retries from it", extra=details, exc_info=True)
                return _failed(sequence_number)
            failures.bury(failure.id, clock.now())
            log.error(DEAD_LOG_LINE, extra=details, exc_info=True)
    return {"batchItemFailures": []}


def replay(failure_id: str, sources: Mapping[str, Source], now: int | None = None) -> failures.Failure:
    """Run a dead record through its source's handler again. Marks it replayed and returns it; if the handler
    raises, the record stays dead with the new error and ReplayFailed is raised. LookupError if there is no
    such dead record or its source is unknown."""
    failure = failures.get(failure_id)
    if failure is None or failure.status != "dead":
        raise LookupError(f"no dead record {failure_id}" + (f" (it is {failure.status})" if failure else ""))
    if failure.source not in sources:
        raise LookupError(f"{failure_id}: no stream function {failure.source!r} to replay it with")
    try:
        sources[failure.source].replay(failure.record)
    except Exception as exc:
        raise ReplayFailed(failures.replay_failed(failure.id, error_of(exc), clock.now() if now is None else now)
                           ) from exc
    done = failures.replayed(failure.id, clock.now() if now is None else now)
    log.info("stream record replayed", extra={"source": failure.source, "failure_id": failure.id})
    return done or failure


def source_of(function_arn: str, sources: Mapping[str, Source]) -> Source:
    """The source whose function an on-failure message names: `<stack>-<name>` in AWS (a `chalice deploy`
    names it `healthcode-<stage>-<name>`), `<name>` alone in a test."""
    function = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    matching = [s for name, s in sources.items() if function == name or function.endswith(f"-{name}")]
    if not matching:
        raise LookupError(f"{function_arn!r} is none of the stream functions {sorted(sources)}")
    return max(matching, key=lambda s: len(s.name))


def recover(message: dict[str, Any], sources: Mapping[str, Source], client: Any = None, source: str | None = None,
            now: int | None = None) -> list[failures.Failure]:
    """Keep as dead records the records of a batch Lambda gave up on, from the message its on-failure
    destination received (an invocation record: `requestContext`, `responseContext`, `DDBStreamBatchInfo`).

    The message names a range of one shard, not the records: they are read back from the stream, which
    keeps them 24 hours (streams.RecordsGone after that). Some may have been handled before the batch
    failed as a whole; replaying those is safe, as every handler is idempotent. `source` overrides the
    function the message names."""
    info, context = message["DDBStreamBatchInfo"], message.get("requestContext", {})
    target = sources[source] if source else source_of(context.get("functionArn", ""), sources)
    records = streams.read_range(info["streamArn"], info["shardId"], info["startSequenceNumber"],
                                 info["endSequenceNumber"], client)
    invocations = int(context.get("approximateInvokeCount") or 1)
    function_error = message.get("responseContext", {}).get("functionError")
    error = failures.Error(str(context.get("condition") or "BatchFailed"),
                           f"Lambda gave up on a batch of {info.get('batchSize', len(records))} records after "
                           f"{invocations} invocations" + (f" (function error: {function_error})"
                                                            if function_error else " (records reported failed)"))
    moment = clock.now() if now is None else now
    kept = []
    for record in records:
        try:
            name = target.record_id(record)
        except Exception:
            name = stream_event_id(record)
        kept.append(failures.store_dead(target.name, name, record, error, invocations, moment))
    log.error("stream batch kept as dead records", extra={"source": target.name, "records": len(kept),
                                                          "shard_id": info["shardId"], "condition": error.type})
    if len(kept) < int(info.get("batchSize", len(kept))):
        log.warning("some records of the failed batch are no longer in the stream",
                    extra={"source": target.name, "found": len(kept), "batch_size": info.get("batchSize")})
    return kept
