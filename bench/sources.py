"""Benchmarks of the sources' fan-outs: an exposure's recompute (issue 3), province sync (issue 4),
webhook delivery (issue 5), a lab's test results (issue 19). Each returns a dict of figures; nothing is asserted."""
from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import stack
from bench.dynamo_calls import recording
from bench.stack import dump
from bench.stats import latency

DAY = 86400


def _batch_write(kind: str, items: list[dict[str, Any]], threads: int = 4, encoded: bool = False) -> None:
    """Put items 25 per BatchWriteItem on `threads` threads (the emulator's write floor: DESIGN.md);
    `encoded`: the items are attribute values already, as a store module's put_op builds them."""
    from chalicelib.store import dynamo

    name = dynamo.table(kind)

    def write(chunk: list[dict[str, Any]]) -> None:
        pending = {name: [{"PutRequest": {"Item": i if encoded else dynamo.to_item(i)}} for i in chunk]}
        while pending:
            pending = dynamo.client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    chunks = [items[i:i + 25] for i in range(0, len(items), 25)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(write, chunks))


def exposure_recompute(stored_trips: int, matching: int) -> dict[str, Any]:
    """Publish an exposure for a flight with `matching` passengers among `stored_trips` trips, and time the
    whole path as Lambda runs it: the publication, then the local pump drained (the events function turns the
    event into a voyage unit; the fanout function pages the passengers through the `by_voyage` index,
    VOYAGE_PAGE at a time, recomputing each code); beside it, a full scan that only finds them."""
    from chalicelib import clock
    from chalicelib.domain import days
    from chalicelib.domain.exposures import CaseType, voyage
    from chalicelib.domain.transport import Mode
    from chalicelib.events import fanout
    from chalicelib.security import pseudonyms
    from chalicelib.security.access import Principal, Role
    from chalicelib.services import exposures
    from chalicelib.store import dynamo

    now = clock.now()
    day = days.today(now) - dt.timedelta(days=3)
    flight = "MU" + str(1000 + secrets.randbelow(8999))
    t0 = time.perf_counter()
    trips, people = [], []
    for i in range(stored_trips):
        person = secrets.token_hex(16)
        ours = i < matching
        number = flight if ours else f"CZ{i % 9000 + 1}"
        trips.append({"pk": person, "sk": f"{day.isoformat()}#trp_{i:06d}", "trip_id": f"trp_{i:06d}",
                      "date": day.isoformat(), "from": "310101", "to": "440106", "mode": "flight",
                      "number": number, "seat": f"{i % 40 + 1}C", "voyage": voyage(number, day), "created_at": now,
                      "expires_at": now + 30 * DAY})
        if ours:
            people.append({"pk": pseudonyms.code_id(person), "person": person, "status": "active", "sources": {},
                           "color": "green", "version": 1, "name_masked": "*明", "id_last4": "0000",
                           "created_at": now, "updated_at": now})
    _batch_write("trips", trips)
    _batch_write("people", people)
    seeded_s = time.perf_counter() - t0

    pump = stack.pump()   # after the seeding, so that only what the exposure causes is handled
    authority = Principal(Role.HEALTH_AUTHORITY, "bench-authority", province="31")
    with recording() as calls, stack.units_run() as units:
        t0 = time.perf_counter()
        exposures.publish(authority, Mode.FLIGHT, flight, day, CaseType.CONFIRMED, False, [], None, None)
        pump.drain()
        indexed_s = time.perf_counter() - t0
    # the pump's own look for new stream shards (once a second) is not the app's work
    index_calls = [c for c in calls if not c.startswith("DescribeTable")]

    with recording() as calls:
        t0 = time.perf_counter()
        found = dynamo.scan_all("trips", "voyage = :v", {":v": voyage(flight, day)})
        scan_s = time.perf_counter() - t0
    return {"stored": stored_trips, "matching": matching, "seeded_s": seeded_s,
            "written": sum(u.written for u in units), "units": len(units), "page": fanout.VOYAGE_PAGE,
            "failures": pump.failures,
            "indexed_s": indexed_s, "index_calls": len(index_calls),
            "index_queries": sum(1 for c in index_calls if c.startswith("Query trips index")),
            "scan_s": scan_s, "scan_calls": len(calls), "scan_found": len(found)}


def sync_throughput(http: Any, batches: int, size: int = 500) -> dict[str, Any]:
    """POST /v1/sync/local-codes with `batches` batches of `size` new records."""
    from chalicelib import clock
    from chalicelib.security.access import Role
    from tests import people

    headers = stack.client_headers(http, Role.PROVINCE, "bench province", province="51")
    bodies = []
    for b in range(batches):
        now = clock.now()
        bodies.append(dump({"province": "51", "records": [
            {"id_number": people.in_province("51"), "color": "green", "local_code_id": f"bench-{b}-{i}",
             "issued_at": now - 60, "updated_at": now, "version": 1} for i in range(size)]}))
    seconds, call_counts, written = [], [], 0
    for body in bodies:
        with recording() as calls:
            t0 = time.perf_counter()
            response = http.post("/v1/sync/local-codes", headers=headers, body=body)
            seconds.append(time.perf_counter() - t0)
        written += response.json_body.get("written", 0)
        call_counts.append(len(calls))
    total = sum(seconds)
    return {"batches": batches, "size": size, "written": written, "records_per_s": batches * size / total,
            "batch_ms": [round(s * 1000) for s in seconds], "calls_per_batch": call_counts}


def test_result_throughput(http: Any, batches: int, size: int = 500) -> dict[str, Any]:
    """POST /v1/sync/test-results from a lab with `batches` batches of `size` new results, and the emulator's write
    floor in the same stack: the items such a batch writes, three per record (its access log entry, the result and
    its `test_result.synced` event), as conditional puts in TransactWriteItems on one thread, as the route writes
    them (100 entries, then 98 items, per transaction), with nothing else around them. A floor batch runs before
    each route batch, so that both meet the same load on a shared machine."""
    from chalicelib import clock
    from chalicelib.security.access import Role
    from chalicelib.store import audit, dynamo
    from tests import people

    headers = stack.client_headers(http, Role.LAB, "bench lab", province="51")
    institution = {"name": "bench lab", "county": "510104"}

    def floor_batch(b: int) -> float:
        items, entries = [], []
        for i in range(size):
            person, record_id = secrets.token_hex(11), f"floor-{b}-{i}"
            entries.append(audit.AccessEntry(person, 1, f"acc_{record_id}", "la_floor", "lab", "51", "test_result",
                                             None, {"result": "negative", "test_type": "pcr"}, record_id, 2))
            items.append(dynamo.put_op("medical", {"pk": person, "sk": f"T#51#{record_id}", "issuer": "51",
                                                   "province": "51", "record_id": record_id, "sample_time": 1,
                                                   "result_time": 2, "result": "negative", "test_type": "pcr",
                                                   "institution": institution, "version": 1, "synced_at": 3,
                                                   "expires_at": 4}, condition="attribute_not_exists(pk)"))
            items.append(dynamo.put_op("events", {"pk": f"{record_id}-{secrets.token_hex(4)}", "type": "bench",
                                                  "data": {"province": "51"}, "subject": person, "created_at": 1,
                                                  "expires_at": 2}, condition="attribute_not_exists(pk)"))
        t0 = time.perf_counter()
        audit.append_accesses(entries)
        for start in range(0, len(items), 98):
            dynamo.transact(items[start:start + 98])
        return time.perf_counter() - t0

    floor_batch(-1)   # untimed: DynamoDB Local's JIT warms up on the first few thousand conditional puts
    seconds, floors, call_counts, written = [], [], [], 0
    for b in range(batches):
        floors.append(floor_batch(b))
        now = clock.now()
        body = dump({"province": "51", "records": [
            {"id_number": people.in_province("51"), "record_id": f"bench-{b}-{i}", "sample_time": now - 7200,
             "result_time": now - 60, "result": "negative", "test_type": "pcr", "institution": institution,
             "version": 1} for i in range(size)]})
        with recording() as calls:
            t0 = time.perf_counter()
            response = http.post("/v1/sync/test-results", headers=headers, body=body)
            seconds.append(time.perf_counter() - t0)
        written += response.json_body.get("written", 0)
        call_counts.append(len(calls))
    return {"batches": batches, "size": size, "written": written, "records_per_s": batches * size / sum(seconds),
            "batch_ms": [round(s * 1000) for s in seconds], "calls_per_batch": call_counts,
            "floor_ms": [round(s * 1000) for s in floors], "floor_records_per_s": batches * size / sum(floors),
            "floor_items_per_s": 3 * batches * size / sum(floors)}


def webhook_delivery(events_n: int, subscriptions: int, keep_alive: bool = True, tls: bool = False) -> dict[str, Any]:
    """`events_n` area changes, each delivered to `subscriptions` loopback receivers by the local pump.

    keep_alive: the receivers answer HTTP/1.1 and keep connections open, as web servers do, so sends
    reuse them; without it they answer HTTP/1.0 and close each one, so every send opens a connection,
    as every send did before connections were kept. tls: the receivers speak HTTPS with a certificate
    from a throwaway CA, which the sender trusts through SSL_CERT_FILE for the run, as provinces' do."""
    from tests.receiver import Receiver

    with _sends_timed(tls) as (server_tls, send_ms):
        receivers = [Receiver(keep_alive=keep_alive, idle_seconds=30, tls=server_tls).start()
                     for _ in range(subscriptions)]
        try:
            result = _deliver(receivers, events_n)
        finally:
            for receiver in receivers:
                receiver.stop()
    sends = latency([int(ms * 1e6) for ms in send_ms], 1.0) if send_ms else None
    return {**result, "subscriptions": subscriptions,
            "send_p50_ms": sends.p50_ms if sends else None, "send_p99_ms": sends.p99_ms if sends else None}


@contextmanager
def _sends_timed(tls: bool) -> Iterator[tuple[Any, list[float]]]:
    """A server TLS context from a throwaway CA the sender trusts (SSL_CERT_FILE), or None; and the
    latency of every webhook send, collected around `delivery.send`. Both undone afterwards."""
    from chalicelib.events import delivery
    from tests.tls import loopback_tls

    send_ms: list[float] = []
    real_send = delivery.send

    def timed_send(*args: Any, **kwargs: Any) -> dict[str, Any]:
        outcome = real_send(*args, **kwargs)
        send_ms.append(outcome["latency_ms"])
        return outcome

    with tempfile.TemporaryDirectory(prefix="healthcode-bench-tls-") as folder:
        server_tls = None
        if tls:
            ca_file, server_tls = loopback_tls(Path(folder))
            os.environ["SSL_CERT_FILE"] = str(ca_file)
        delivery.send = timed_send
        try:
            yield server_tls, send_ms
        finally:
            delivery.send = real_send
            os.environ.pop("SSL_CERT_FILE", None)


def _deliver(receivers: list[Any], events_n: int) -> dict[str, Any]:
    """Subscribe each receiver, change `events_n` areas, and wait until every delivery arrived."""
    from chalicelib.domain import divisions
    from chalicelib.domain.areas import RiskLevel
    from chalicelib.security.access import Principal, Role
    from chalicelib.services import areas, webhooks

    received: list[tuple[str, float]] = []
    lock = threading.Lock()
    for receiver in receivers:
        province = Principal(Role.PROVINCE, f"bench-province-{receiver.port}", province="45")
        hook = webhooks.create(province, receiver.url, ["area.level_changed"], "bench")
        receiver.secrets.append(hook["secret"])
        original = receiver.plan

        def plan(message_id: str, attempt: int, _original: Any = original) -> str:
            with lock:
                received.append((message_id, time.time()))
            return _original(message_id, attempt)
        receiver.plan = plan
    authority = Principal(Role.HEALTH_AUTHORITY, "bench-authority", province="45")
    counties = [c for c in divisions.all_counties() if c.startswith("45")]
    levels = [RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.LOW]
    expected = events_n * len(receivers)
    with stack.pump_running():
        t0 = time.time()
        for i in range(events_n):
            areas.set_level(authority, counties[i % len(counties)], levels[(i // len(counties)) % 3], None, None)
        produced_s = time.time() - t0
        deadline = time.time() + 300
        while len(received) < expected and time.time() < deadline:
            time.sleep(0.1)
        done = time.time()
    delays_ns = [int((at - int(mid[4:17]) / 1000) * 1e9) for mid, at in received]
    lat = latency(delays_ns, done - t0)
    unique = len({(r.port, d) for r in receivers for d in r.unique()})
    return {"events": events_n, "delivered": len(received), "unique": unique,
            "connections": sum(r.connections for r in receivers),
            "expected": expected, "produced_s": produced_s, "total_s": done - t0,
            "deliveries_per_s": len(received) / (done - t0), "delay_p50_ms": lat.p50_ms, "delay_p99_ms": lat.p99_ms}
