"""No event can stall the others (issue 14): a stream record that keeps failing becomes a dead event, kept with
its error for ops to list and replay, and the records behind it go on; a batch Lambda gives up on (a crash,
a timeout) ends as dead events too, through the on-failure message `ops events recover` reads.

Through the local pump, which behaves as the event source mappings infra/package.py deploys, the app's own
stream handlers and DynamoDB Local.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from chalicelib.events import batches, handlers
from chalicelib.logs import JsonFormatter
from chalicelib.security.access import Role
from chalicelib.settings import get_settings
from chalicelib.store import deliveries as delivery_store, dynamo, failures
from chalicelib.store.events import Event
from infra import package
from infra.local import pump as pumps
from tests import people
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver
from tests.test_deployment import metric_filter_matches
from tests.test_ops_cli import _keep_the_environment, ops  # noqa: F401 (a fixture)
from tests.test_webhooks import subscribe


def event_in(record: dict[str, Any]) -> Event:
    event = handlers.new_event(record)
    assert event is not None, record
    return event


def failure(failure_id: str) -> failures.Failure:
    found = failures.get(failure_id)
    assert found is not None, failure_id
    return found


def counties(province: str, n: int) -> list[str]:
    found = [c for c in people.divisions.all_counties() if c.startswith(province)][:n]
    assert len(found) == n
    return found


def raise_levels(client: Any, authority: dict[str, str], areas: list[str], level: str = "medium") -> None:
    for area in areas:
        assert client.put(f"/v1/areas/{area}", headers=authority, body=dump({"level": level})).status_code == 200


def event_areas(hook_id: str) -> dict[str, str]:
    """area -> event id of every delivery a subscription got (one per area.level_changed event fanned out)."""
    page, _ = delivery_store.page(hook_id, 1000, None)
    return {json.loads(d.body)["data"]["area"]: d.event_id for d in page}


def test_one_poison_event_among_100_is_dead_the_others_are_handled_and_a_replay_after_the_fix_works(
        client, health_authority, pump, monkeypatch, caplog):
    receiver = Receiver().start()
    shandong = auth(client_token(client, Role.PROVINCE, province="37"))
    hook = subscribe(client, shandong, receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    areas = counties("37", 100)
    poison = areas[37]
    tries: list[str] = []
    real = handlers.handle_event

    def broken(event: Event, now: int) -> None:  # a bug that only this area's event reaches
        if event.data.get("area") == poison:
            tries.append(event.event_id)
            raise RuntimeError(f"cannot handle {poison} (try {len(tries)})")
        real(event, now)

    monkeypatch.setattr(handlers, "handle_event", broken)
    raise_levels(client, health_authority("37"), areas)
    failed_before = pump.failures
    with caplog.at_level(logging.INFO, logger="healthcode.events"):
        pump.drain()

    # the other 99 were handled, those behind the poison too: each fanned out to the province's webhook
    handled = event_areas(hook["id"])
    assert set(handled) == set(areas) - {poison}
    assert len(receiver.unique()) == 99
    # the poison was tried MAX_ATTEMPTS times (Lambda retried twice from it), then kept as dead with its error
    assert len(tries) == batches.MAX_ATTEMPTS and len(set(tries)) == 1
    assert pump.failures == failed_before + batches.MAX_ATTEMPTS - 1
    dead = failures.get(failures.failure_id("events", tries[0]))
    assert dead is not None and dead.status == "dead" and dead.attempts == batches.MAX_ATTEMPTS
    assert (dead.error.type, dead.error.message) == ("RuntimeError", f"cannot handle {poison} (try 3)")
    assert dead.error.where.startswith("test_dead_events.py:") and dead.what == "area.level_changed"
    assert event_in(dead.record).data["area"] == poison  # the stream record, as Lambda delivered it
    # one log line for the dead record, which the deployed metric filter counts (an alarm watches the count)
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "healthcode.events"]
    assert len([line for line in lines if metric_filter_matches(package.DEAD_RECORD_PATTERN, line)]) == 1

    listed = json.loads(ops("events", "dead", "--source", "events", "--format", "json").output)
    assert [row["id"] for row in listed if row["id"] == dead.id] == [dead.id]
    row = next(row for row in listed if row["id"] == dead.id)
    assert row["error_type"] == "RuntimeError" and row["attempts"] == 3 and row["keys"] == {"pk": tries[0]}
    assert dead.id in ops("events", "dead").output
    assert dead.id not in ops("events", "dead", "--source", "scans").output

    # replayed before the fix: it fails again, stays dead with the new error, and the command says so
    refused = ops("events", "replay", dead.id, ok=False)
    assert refused.exit_code == 1 and "still dead" in refused.output and "(try 4)" in refused.output
    again = failures.get(dead.id)
    assert again.status == "dead" and again.attempts == 4 and again.error.message.endswith("(try 4)")

    monkeypatch.undo()  # the fix is deployed
    assert "1 replayed" in ops("events", "replay", dead.id).output
    done = failures.get(dead.id)
    assert done.status == "replayed" and done.replayed_at is not None
    assert done.expires_at == done.replayed_at + failures.REPLAYED_KEEP_SECONDS
    assert set(event_areas(hook["id"])) == set(areas)
    assert len(receiver.unique()) == 100  # its first delivery attempt is made by the replay, as by the handler
    assert dead.id not in ops("events", "dead").output
    assert ops("events", "replay", dead.id, ok=False).exit_code == 1  # not dead any more: nothing to replay
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=shandong).status_code == 204
    receiver.stop()


def events_table() -> str:
    return f"{get_settings().table_prefix}-events"


def recording_pump(handler: Any) -> pumps.Pump:
    """A mapping of the events table's stream of its own, whose handler the test writes. (The session's pump
    sees the same events: a test drains it too, so that they are not left to the next test's drain.)"""
    return pumps.Pump(dynamo.client(), dynamo.streams_client(),
                      [pumps.StreamSource(events_table(), handler, function="tests-events")]).start_at_latest()


def test_the_pump_retries_from_the_record_a_partial_batch_response_names(client, health_authority, pump):
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        areas = [event_in(r).data["area"] for r in event["Records"]]
        seen.append(areas)
        if len(seen) == 1:  # the third record fails the first time
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    mapping = recording_pump(handler)
    areas = counties("14", 5)
    raise_levels(client, health_authority("14"), areas)
    mapping.drain()
    assert seen == [areas, areas[2:]]  # retried from the reported record: the two before it are done
    assert mapping.failures == 1 and mapping.given_up == []

    # an identifier that names no record of the batch fails the whole batch, as in Lambda
    batches_seen: list[list[str]] = []

    def unknown_identifier(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
        batches_seen.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": "1"}]} if len(batches_seen) == 1 else None

    mapping = recording_pump(unknown_identifier)
    raise_levels(client, health_authority("14"), areas[:2], level="high")
    mapping.drain()
    assert len(batches_seen) == 2 and batches_seen[0] == batches_seen[1] and len(batches_seen[0]) == 2
    assert mapping.failures == 1
    pump.drain()


def test_a_batch_that_crashes_the_function_is_bisected_retried_and_ends_as_dead_events(
        client, health_authority, app_module, pump, monkeypatch):
    from chalicelib.store import streams

    areas = counties("65", 8)
    poison = areas[5]
    invocations: list[list[str]] = []

    def crashing(event: dict[str, Any], context: Any) -> Any:
        """The events function, which dies (say, out of memory) on any batch holding one of the events."""
        invocations.append([event_in(r).data["area"] for r in event["Records"]])
        if poison in invocations[-1]:
            raise MemoryError("the function ran out of memory")
        return app_module.on_events(event, context)

    settings = get_settings()
    mapping = pumps.for_app(app_module, dynamo.client(), dynamo.streams_client(), settings.table_prefix)
    mapping.sources = [s for s in mapping.sources if s.table == events_table()]
    mapping.sources[0].handler = crashing
    mapping.start_at_latest()
    read_back: list[str] = []
    real_read = streams.read_range

    def read_range(stream_arn: str, shard_id: str, first: str, last: str, client: Any = None) -> list[dict]:
        read_back.append(first)
        return real_read(stream_arn, shard_id, first, last, client)

    monkeypatch.setattr(streams, "read_range", read_range)
    raise_levels(client, health_authority("65"), areas)
    failed_before = mapping.failures
    mapping.drain()

    retries = package.STREAM_MAPPING["MaximumRetryAttempts"]
    # halved until the poison is alone (a split is not a retry), then retried MaximumRetryAttempts times
    assert invocations[:4] == [areas, areas[:4], areas[4:], areas[4:6]]
    assert invocations[4:] == [[areas[4]], [poison]] + [[poison]] * retries + [areas[6:]]
    assert mapping.failures == failed_before + 3 + 1 + retries
    # then the mapping gave up on it and sent the on-failure message, which `recover` turned into a dead event
    (message,) = mapping.given_up
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == retries + 1
    assert message["responseContext"]["functionError"] == "Unhandled"
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    assert read_back == [info["startSequenceNumber"]]  # read back from the stream, as ops does in AWS
    dead = failures.dead("events")
    (found,) = [f for f in dead if event_in(f.record).data["area"] == poison]
    assert found.error.type == "RetryAttemptsExhausted" and "function error: Unhandled" in found.error.message
    assert found.sequence_number == info["startSequenceNumber"]
    # every other event was handled by the real function: the areas' levels are raised and nothing else is dead
    assert not [f for f in dead if getattr(event_in(f.record), "data", {}).get("area") in areas
                and f.id != found.id]
    assert batches.replay(found.id, handlers.SOURCES).status == "replayed"
    pump.drain()


def stream_records_of(areas: list[str], client: Any, authority: dict[str, str]) -> tuple[str, str, list[dict]]:
    """Write area changes and find their records in the events stream: (stream ARN, shard id, records)."""
    seen: list[dict[str, Any]] = []
    mapping = recording_pump(lambda event, context: seen.extend(event["Records"]))
    raise_levels(client, authority, areas)
    mapping.drain()
    (source,) = mapping.sources
    (shard_id,) = [s for s, shard in source.shards.items() if shard.last_read == seen[-1]["dynamodb"]["SequenceNumber"]]
    return source.arn, shard_id, seen


def test_ops_recovers_the_records_of_an_on_failure_message_in_awss_shape(client, health_authority, pump,
                                                                          tmp_path: Path):
    areas = counties("21", 3)
    arn, shard_id, records = stream_records_of(areas, client, health_authority("21"))
    first, last = records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"]
    # the invocation record Lambda sends an SQS on-failure destination, as the AWS Lambda Developer Guide
    # shows it ("Retaining discarded records for a DynamoDB event source"), with this stream's values
    message: dict[str, Any] = {
        "requestContext": {
            "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws-cn:lambda:cn-north-1:123456789012:function:healthcode-prod-events",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 4,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-30T00:13:49.717Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "approximateArrivalOfFirstRecord": "2026-11-30T00:13:19Z",
            "approximateArrivalOfLastRecord": "2026-11-30T00:13:19Z",
            "batchSize": 3,
            "streamArn": arn,
        },
    }
    # as `aws sqs receive-message` prints it: the message is the body
    saved = tmp_path / "received.json"
    saved.write_text(json.dumps({"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1",
                                               "Body": json.dumps(message)}]}))
    done = ops("events", "recover", str(saved))
    assert "3 dead events stored" in done.output
    ids = [failures.failure_id("events", event_in(r).event_id) for r in records]
    kept = [failure(i) for i in ids]
    assert all(k.status == "dead" and k.source == "events" and k.attempts == 4 for k in kept)
    assert [event_in(k.record).data["area"] for k in kept] == areas
    assert all(k.error.type == "RetryAttemptsExhausted" for k in kept)
    listed = {row["id"] for row in json.loads(ops("events", "dead", "--format", "json").output)}
    assert set(ids) <= listed
    # handled already, or not: replaying is safe either way
    assert "3 replayed" in ops("events", "replay", *ids).output
    assert all(failure(i).status == "replayed" for i in ids)

    # a message whose function is none of ours, or whose records are gone, is refused, not half-kept
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({**message, "requestContext": {**message["requestContext"],
                                                                 "functionArn": "arn:aws:lambda:x:1:function:other"}}))
    refused = ops("events", "recover", str(foreign), ok=False)
    assert refused.exit_code == 1 and "none of the stream functions" in refused.output
    not_json = tmp_path / "not.json"
    not_json.write_text("{}")
    assert ops("events", "recover", str(not_json), ok=False).exit_code == 2
    pump.drain()


class CountdownContext:
    """A Lambda context whose remaining time drops by a fixed step at each look: no clock involved."""

    def __init__(self, start_ms: int, step_ms: int):
        self.remaining, self.step = start_ms, step_ms

    def get_remaining_time_in_millis(self) -> int:
        value = self.remaining
        self.remaining -= self.step
        return value


def synthetic_records(n: int) -> list[dict[str, Any]]:
    return [{"eventID": f"deadline-test-{i}", "eventName": "MODIFY",
             "dynamodb": {"SequenceNumber": f"{9000 + i}", "Keys": {"pk": {"S": f"k{i}"}}}} for i in range(n)]


def test_a_batch_stops_before_the_deadline_and_reports_the_next_record_without_counting_it():
    handled: list[str] = []
    records = synthetic_records(10)
    # 100 s at the start: the reserve is 25 s; each look costs 20 s, so records 0-2 start with 80, 60, 40 s left
    response = batches.run_batch("deadline-test", records, lambda r: handled.append(r["eventID"]),
                                 CountdownContext(100_000, 20_000))
    assert handled == [r["eventID"] for r in records[:3]]
    assert response == {"batchItemFailures": [{"itemIdentifier": records[3]["dynamodb"]["SequenceNumber"]}]}
    assert failures.get(failures.failure_id("deadline-test", records[3]["eventID"])) is None  # not an attempt

    # without a context (the pump, ops) there is no deadline
    handled.clear()
    assert batches.run_batch("deadline-test", records, lambda r: handled.append(r["eventID"]), None) == \
        {"batchItemFailures": []}
    assert len(handled) == 10


@pytest.mark.parametrize("arn, expected", [
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:healthcode-prod-events", "events"),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:my-stack-scans:live", "scans"),
    ("events", "events"),
])
def test_an_on_failure_message_names_its_stream_function(arn, expected):
    assert batches.source_of(arn, handlers.SOURCES).name == expected


def test_any_stream_function_isolates_its_records_with_run_batch_and_ops_replays_them(monkeypatch):
    """What a new stream function does (app.py: return run_batch(...); handlers.SOURCES: its replay)."""
    records = synthetic_records(6)
    handled: list[str] = []
    broken = {"deadline-test-2"}

    def handle(record: dict[str, Any]) -> None:
        if record["eventID"] in broken:
            raise ValueError("a record this version cannot read")
        handled.append(record["eventID"])

    monkeypatch.setitem(handlers.SOURCES, "tests", batches.Source("tests", handle))
    batch, responses = records, []
    for _ in range(batches.MAX_ATTEMPTS):  # as Lambda: each retry starts at the record reported
        responses.append(batches.run_batch("tests", batch, handle, None))
        failed = responses[-1]["batchItemFailures"]
        batch = [r for r in records if failed and r["dynamodb"]["SequenceNumber"] >= failed[0]["itemIdentifier"]]
    assert responses == [{"batchItemFailures": [{"itemIdentifier": "9002"}]}] * 2 + [{"batchItemFailures": []}]
    assert handled == ["deadline-test-0", "deadline-test-1", "deadline-test-3", "deadline-test-4", "deadline-test-5"]
    dead = failures.get(failures.failure_id("tests", "deadline-test-2"))
    assert dead.status == "dead" and dead.attempts == 3 and dead.error.type == "ValueError"
    assert dead.first_failed_at <= dead.failed_at == dead.dead_at
    assert dead.expires_at == dead.dead_at + failures.DEAD_KEEP_SECONDS

    broken.clear()  # fixed
    assert "1 replayed" in ops("events", "replay", "--all-dead", "--source", "tests").output
    assert handled[-1] == "deadline-test-2" and failures.get(dead.id).status == "replayed"
    assert ops("events", "replay", ok=False).exit_code == 2
