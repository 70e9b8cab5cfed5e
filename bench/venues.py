"""Venue codes (issue 18): visits recorded per second, DynamoDB calls per visit, and the fan-out of a venue
exposure over N visits, each beside its floor measured in the same run.

- Visits: citizens (logged in, applied) scan one venue through `POST /v1/visits` (chalice.test.Client), one
  request after another: first each one's first visit of the day to the venue's county (the code's stays change:
  a full recompute), then, 5 minutes on, each again (the common visit: the stay is there already), then a
  repeated scan inside the same 5 minutes (nothing written). The floor of a common visit is the DynamoDB work it
  cannot avoid, sent straight through boto3 in the same loop shape: the rate limit's UpdateItem, GetItem of the
  venue and of the code, and a TransactWriteItems of the visit's conditional Put, its shard-hour counter's Update
  (ADD) and the stay's Put.
- Fan-out: N visitors are seeded with BatchWriteItem as the platform stores them (a code each, with its stay in
  the venue's county; the stay in the visits table; the visit in the venue's shard), then a health authority
  publishes an exposure over their window and the local pump runs the units, as Lambda would, until the 16 shard
  chains are done. Its floor is one full recompute per visitor (`assessment.refresh`) called in this process on
  8 threads, as the fan-out's unit does, without the pump or the paging: what the units cannot go below.
"""
from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import stack, stats
from bench.city import code_item
from bench.dynamo_calls import recording
from bench.sources import _batch_write
from bench.stack import DECLARATION, dump
from chalicelib import clock
from chalicelib.domain import days, venues as rules
from chalicelib.domain.areas import Visit
from chalicelib.domain.declaration import Declaration
from chalicelib.domain.names import mask_name
from chalicelib.security import pseudonyms
from chalicelib.security.access import Role
from chalicelib.services import assessment
from chalicelib.store import dynamo, people, venues, visits

COUNTY = "440106"          # Guangzhou Tianhe
SAMPLED = 20


def _timed(step: Callable[[int], Any], n: int) -> stats.Latency:
    samples = []
    began = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        step(i)
        samples.append(time.perf_counter_ns() - t0)
    return stats.latency(samples, time.perf_counter() - began)


def _visit(http: Any, citizen: stack.Citizen, token: str, expected: int) -> dict[str, Any]:
    response = http.post("/v1/visits", headers=citizen.headers, body=dump({"venue_token": token}))
    if response.status_code != expected:
        raise RuntimeError(f"POST /v1/visits: {response.status_code} {response.json_body}")
    return response.json_body


def visits_recorded(citizens_n: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    http = stack.http_client()
    authority = stack.client_headers(http, Role.HEALTH_AUTHORITY, "bench venues", province="44")
    venue = http.post("/v1/venues", headers=authority, body=dump({"name": "体育西路地铁站", "county": COUNTY,
                                                                "type": "transport"})).json_body
    token = venue["token"]
    citizens = [stack.new_citizen(http) for _ in range(citizens_n)]
    log(f"  {citizens_n} citizens logged in and applied; venue {venue['venue_id']}")
    # the clock early in a 5-minute bucket, so the repeated scans below share the first scan's bucket
    clock.shift(rules.VISIT_BUCKET_SECONDS - clock.now() % rules.VISIT_BUCKET_SECONDS + 1)
    calls: dict[str, list[str]] = {}
    with recording() as recorded:
        _visit(http, citizens[0], token, 201)
    calls["first of the day in the county"] = list(recorded)
    first = _timed(lambda i: _visit(http, citizens[i + 1], token, 201), citizens_n - 1)
    with recording() as recorded:
        _visit(http, citizens[0], token, 200)
    calls["repeated within 5 minutes"] = list(recorded)
    clock.shift(rules.VISIT_BUCKET_SECONDS)
    with recording() as recorded:
        _visit(http, citizens[0], token, 201)
    calls["common: a stay in the county today already"] = list(recorded)
    common = _timed(lambda i: _visit(http, citizens[i + 1], token, 201), citizens_n - 1)
    repeated = _timed(lambda i: _visit(http, citizens[i + 1], token, 200), citizens_n - 1)

    # the floor: a common visit's own DynamoDB work, through boto3, with nothing of the app around it
    people_table, venues_table, visits_table = (dynamo.table(k) for k in ("people", "venues", "visits"))
    limits_table = dynamo.table("ratelimits")
    code_ids = [c.code_id for c in citizens]
    client = dynamo.client()
    run = secrets.token_hex(4)

    def floor(i: int) -> None:
        client.update_item(TableName=limits_table, Key={"pk": {"S": f"bench-floor#{run}#{i % 50}"}},
                           UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}},
                           ReturnValues="ALL_NEW")
        client.get_item(TableName=venues_table, Key={"pk": {"S": f"venue#{venue['venue_id']}"}, "sk": {"S": "venue"}})
        client.get_item(TableName=people_table, Key={"pk": {"S": code_ids[i % len(code_ids)]}}, ConsistentRead=True)
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": venues_table, "ConditionExpression": "attribute_not_exists(pk)",
                     "Item": {"pk": {"S": f"bench-floor#{run}#{i % 16}"}, "sk": {"S": f"{i:010d}"},
                              "at": {"N": str(clock.now())}}}},
            {"Update": {"TableName": venues_table,
                        "Key": {"pk": {"S": f"bench-floor#{run}#counts#{i % 16}"}, "sk": {"S": "0000000000"}},
                        "UpdateExpression": "ADD visits :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": visits_table,
                     "Item": {"pk": {"S": f"bench-floor#{run}#{i}"}, "sk": {"S": "day#venue#x"},
                              "area": {"S": COUNTY}}}}])

    floored = _timed(floor, citizens_n - 1)
    return {"citizens": citizens_n, "first": first, "common": common, "repeated": repeated, "floor": floored,
            "calls": calls}


def seed_visitors(n: int, venue_id: str, start: int, end: int, now: int) -> list[str]:
    """N visitors of the venue between start and end, stored as the platform stores them: their person refs."""
    declaration = Declaration.model_validate({**DECLARATION, "current_area": COUNTY})
    day = days.today(start)
    codes, stays, scans, persons = [], [], [], []
    for i in range(n):
        person = secrets.token_hex(16)
        at = start + (end - start) * i // max(1, n)
        bucket = rules.bucket(at)
        codes.append(code_item(person, declaration, now - 86400, [Visit(day, COUNTY, "venue")], now,
                               mask_name("王小明"), f"{i % 10000:04d}"))
        stay = visits.Stay(person, day, COUNTY, "venue", f"{venue_id}#{bucket}", at,
                           days.start_of(day) + 30 * days.DAY)
        stays.append(visits.put_op(stay)["Put"]["Item"])
        scans.append(venues.visit_op(venues.RecordedVisit(venue_id, person, at, "王*明", f"{i % 10000:04d}"),
                                     bucket)["Put"]["Item"])
        persons.append(person)
    _batch_write("people", codes)
    _batch_write("visits", stays, encoded=True)
    _batch_write("venues", scans, encoded=True)
    return persons


def exposure_fan_out(n: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    http = stack.http_client()
    authority = stack.client_headers(http, Role.HEALTH_AUTHORITY, "bench venues", province="44")
    venue = http.post("/v1/venues", headers=authority, body=dump({"name": "广州南站", "county": COUNTY,
                                                                "type": "transport"})).json_body
    now = clock.now()
    start, end = now - 4 * 3600, now - 2 * 3600
    t0 = time.perf_counter()
    persons = seed_visitors(n, venue["venue_id"], start, end, now)
    seeded_s = time.perf_counter() - t0
    log(f"  seeded {n:,} visitors (a code, a stay and a visit each) in {seeded_s:.1f} s")
    sampled = [pseudonyms.code_id(p) for p in secrets.SystemRandom().sample(persons, min(SAMPLED, n))]
    with stack.pump_running() as pump, stack.units_run() as units, recording() as calls:
        sent = time.time()
        published = http.post("/v1/venue-exposures", headers=authority, body=dump(
            {"venue_id": venue["venue_id"], "from": start + 1800, "to": end - 1800, "case_type": "confirmed"}))
        answered = time.time()
        if published.status_code != 201:
            raise RuntimeError(f"POST /v1/venue-exposures: {published.status_code} {published.json_body}")
        publish_calls = [c for c, t in zip(calls, calls.threads, strict=False) if t == "MainThread"]
        deadline = answered + 120 + n / 4
        done_at = None
        while time.time() < deadline:
            finished = {u.params["shard"] for u in units if u.kind == "venue" and not u.continues}
            if len(finished) == venues.VISIT_SHARDS:
                done_at = time.time()
                break
            time.sleep(0.2)
        failures = pump.failures
        stopped_at = time.time()
    written = sum(u.written for u in units if u.kind == "venue")
    fan_out = [c for c, t in zip(calls, calls.threads, strict=False) if t != "MainThread"]
    yellow = Counter(people.get(c, consistent=True).color.value for c in sampled)   # type: ignore[union-attr]

    # the floor: the same recomputes, called directly on 8 threads (a fresh set of visitors, not yet recomputed)
    floor_n = min(n, 2000)
    others = seed_visitors(floor_n, venue["venue_id"], start, end, now)
    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: assessment.refresh(p, clock.now(), "venue_exposure"), others))
    floor_s = time.perf_counter() - t1
    units_run = [u for u in units if u.kind == "venue"]
    return {"visitors": n, "seeded_s": seeded_s, "publish_ms": (answered - sent) * 1000,
            "publish_calls": publish_calls, "done_s": None if done_at is None else done_at - answered,
            "watched_s": stopped_at - answered,
            "written": written, "units": len(units_run), "yellow": dict(yellow), "failures": failures,
            "fan_out_calls": Counter(fan_out), "floor_n": floor_n, "floor_s": floor_s,
            "unit_p50_s": stats.median([u.ended - u.began for u in units_run]) if units_run else None,
            "day": dt.date.fromtimestamp(start).isoformat()}


def report(found: dict[str, Any], say: Callable[[str], None]) -> None:
    v = found.get("visits")
    if v:
        for label, key in (("first visit of the day in the county (full recompute)", "first"),
                           ("common visit (the stay is there already)", "common"),
                           ("repeated scan within 5 minutes (nothing written)", "repeated"),
                           ("floor: the common visit's 4 DynamoDB calls through boto3", "floor")):
            figures = v[key]
            say(f"  {label:62} {figures.per_second:6.0f} visits/s  p50 {figures.p50_ms:6.2f} ms  "
                f"p99 {figures.p99_ms:6.2f} ms")
        say(f"  common visit / floor: {v['common'].p50_ms / v['floor'].p50_ms:.2f}x (p50), "
            f"{v['floor'].per_second / v['common'].per_second:.2f}x (rate)")
        for label, calls in v["calls"].items():
            say(f"  DynamoDB calls, {label}: {len(calls)}: {', '.join(calls)}")
    f = found.get("fan_out")
    if f:
        total = sum(f["fan_out_calls"].values())
        rate = f"{f['written'] / (f['done_s'] or f['watched_s']):,.0f} codes/s"
        say(f"  POST /v1/venue-exposures answered in {f['publish_ms']:.0f} ms with {len(f['publish_calls'])} "
            f"DynamoDB calls ({', '.join(f['publish_calls'])})")
        done = "not reached" if f["done_s"] is None else f"{f['done_s']:.1f} s"
        say(f"  fan-out over {f['visitors']:,} visits: done after {done}; {f['written']:,} codes written "
            f"by {f['units']} units ({rate}; unit p50 {f['unit_p50_s'] or 0:.2f} s); sampled codes {f['yellow']}; "
            f"handlers that raised: {f['failures']}")
        floor_rate = f["floor_n"] / f["floor_s"]
        ratio = f"{floor_rate / (f['written'] / (f['done_s'] or f['watched_s'])):.2f}x" if f["written"] else "-"
        say(f"  floor: {f['floor_n']:,} recomputes called directly on 8 threads in {f['floor_s']:.1f} s "
            f"({floor_rate:,.0f} codes/s); floor rate / fan-out rate: {ratio}")
        say(f"  DynamoDB calls of the fan-out: {total:,} ({total / max(1, f['written']):.1f} per code written)")
        for what, count in f["fan_out_calls"].most_common(10):
            say(f"    {count:8,}  {what}")


def summary(found: dict[str, Any], say: Callable[[str], None]) -> None:
    """The Markdown rows for docs/BENCHMARKS.md."""
    v, f = found["visits"], found["fan_out"]
    say(f"| Venue visits, {v['citizens']} citizens, one request after another | visits/s | p50 ms | p99 ms | "
        f"DynamoDB calls |")
    say("|---|---:|---:|---:|---:|")
    rows = (("first visit of the day in the county (full recompute)", "first", "first of the day in the county"),
            ("common visit (the stay is there already)", "common", "common: a stay in the county today already"),
            ("repeated scan within 5 minutes", "repeated", "repeated within 5 minutes"),
            ("floor: the common visit's own 4 calls through boto3", "floor", None))
    for label, key, calls in rows:
        figures = v[key]
        count = len(v["calls"][calls]) if calls else 4
        say(f"| {label} | {figures.per_second:.0f} | {figures.p50_ms:.2f} | {figures.p99_ms:.2f} | {count} |")
    say(f"\nCommon visit / floor: {v['common'].p50_ms / v['floor'].p50_ms:.2f}x at p50.")
    done = "not reached" if f["done_s"] is None else f"{f['done_s']:.1f} s"
    rate = f"{f['written'] / (f['done_s'] or f['watched_s']):,.0f}"
    floor_rate = f["floor_n"] / f["floor_s"]
    say(f"\nVenue exposure over {f['visitors']:,} visits: published in {f['publish_ms']:.0f} ms; all 16 shard "
        f"chains done after {done} ({f['written']:,} codes written, {rate} codes/s, {f['units']} units); floor, "
        f"the same recomputes called directly on 8 threads: {floor_rate:,.0f} codes/s; DynamoDB calls of the "
        f"fan-out {sum(f['fan_out_calls'].values()):,}.")
