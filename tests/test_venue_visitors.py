"""A tracer's list of a venue's visitors comes a page at a time, whatever the venue's traffic, and the venue's
stats count its visits from per-hour counters written with each visit, never from the visits themselves
(docs/venues.md, "A venue's visitors" and "What a visit costs").
"""
from __future__ import annotations

import base64
import collections
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib import clock
from chalicelib.domain import venues as rules
from chalicelib.security.access import authenticate
from chalicelib.services import venues as service
from chalicelib.services.versioned import ATTEMPTS
from chalicelib.store import dynamo, venues as store
from tests.conftest import dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind  # noqa: F401 (autouse fixtures)
from tests.test_risk_scenarios import code_of, resident
from tests.test_venues import county_of, register, scan, token_of


def visitors(client: Any, tracer: dict[str, str], venue: dict[str, Any], start: int, end: int,
             **query: Any) -> Any:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return client.get(f"/v1/venues/{venue['venue_id']}/visits?from={start}&to={end}{extra}", headers=tracer)


def every_page(client: Any, tracer: dict[str, str], venue: dict[str, Any], start: int, end: int,
               limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        response = visitors(client, tracer, venue, start, end, limit=limit, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json_body
        assert set(response.json_body) == {"venue_id", "from", "to", "list", "next_cursor"}
        pages.append(response.json_body["list"])
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


def stats(client: Any, admin: dict[str, str], venue: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/v1/venues/{venue['venue_id']}/stats", headers=admin)
    assert response.status_code == 200, response.json_body
    assert response.json_body["total"] == sum(h["visits"] for h in response.json_body["hours"])
    return response.json_body


def shown(client: Any, person: Any, visited_at: int) -> tuple[str, str, int]:
    code = code_of(client, person)
    return code["name_masked"], code["id_last4"], visited_at


def test_a_tracer_pages_through_every_visitor_of_a_venue_busier_than_a_page(client, citizen, health_authority):
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    start = clock.now()
    people, expected = [], collections.Counter()
    for _ in range(30):
        person = resident(citizen)
        response = scan(client, person, venue_token=token_of(venue))
        assert response.status_code == 201, response.json_body
        people.append(person)
        expected[shown(client, person, response.json_body["visited_at"])] += 1
        clock.shift(7)
    late = resident(citizen)                 # after the window: never listed
    clock.shift(600)
    assert scan(client, late, venue_token=token_of(venue)).status_code == 201

    pages = every_page(client, tracer, venue, start - 60, start + 300, limit=7)
    assert all(len(page) <= 7 for page in pages) and len(pages) >= 5
    listed = collections.Counter((v["name_masked"], v["id_last4"], v["visited_at"]) for page in pages for v in page)
    assert listed == expected                # every visitor exactly once, nobody else
    for person in people:
        log = client.get("/v1/me/access-log", headers=person.headers).json_body["accesses"]
        assert [e["ref"] for e in log if e["action"] == "venue_visits"] == [venue["venue_id"]]
    assert not [e for e in client.get("/v1/me/access-log", headers=late.headers).json_body["accesses"]
                if e["action"] == "venue_visits"]
    # one page of everything, the default limit
    whole = visitors(client, tracer, venue, start - 60, start + 300)
    assert whole.json_body["next_cursor"] is None and len(whole.json_body["list"]) == 30
    assert stats(client, tracer, venue)["total"] == 31


def test_a_page_reads_at_most_its_limit_whatever_the_venues_traffic(client, citizen, health_authority):
    """The store's walk asks each shard for what the page still needs: never more items than `limit` read."""
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    start = clock.now()
    for _ in range(12):
        assert scan(client, resident(citizen), venue_token=token_of(venue)).status_code == 201
    asked: list[int] = []
    read: list[int] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        if params.get("ExpressionAttributeValues", {}).get(":p", {}).get("S", "").startswith("visits#"):
            asked.append(int(params["Limit"]))

    def answered(parsed: dict[str, Any], **_: Any) -> None:
        read.extend(1 for item in parsed.get("Items", []) if item["pk"]["S"].startswith("visits#"))

    events = dynamo.client().meta.events
    events.register("before-parameter-build.dynamodb.Query", note, unique_id="visitors-page-test")
    events.register("after-call.dynamodb.Query", answered, unique_id="visitors-page-read")
    try:
        first = visitors(client, tracer, venue, start - 60, start + 60, limit=5)
    finally:
        events.unregister("before-parameter-build.dynamodb.Query", unique_id="visitors-page-test")
        events.unregister("after-call.dynamodb.Query", unique_id="visitors-page-read")
    assert first.status_code == 200 and len(first.json_body["list"]) == 5 and first.json_body["next_cursor"]
    assert len(read) == 5                                       # read exactly what it lists
    assert 1 <= len(asked) <= store.VISIT_SHARDS and asked[0] == 5 and all(n <= 5 for n in asked)


def test_a_window_over_24_hours_and_a_cursor_it_never_gave_are_refused(client, citizen, health_authority):
    tracer = health_authority("44")
    venue, other = register(client, tracer, county_of("44")), register(client, tracer, county_of("44"))
    now = clock.now()
    for _ in range(3):
        person = resident(citizen)
        assert scan(client, person, venue_token=token_of(venue)).status_code == 201
        assert scan(client, person, venue_token=token_of(other)).status_code == 201
    long = visitors(client, tracer, venue, now - 24 * 3600 - 1, now)
    assert long.status_code == 422 and long.json_body["error"]["code"] == "validation_failed"
    assert [d["field"] for d in long.json_body["error"]["details"]] == ["to"]
    assert visitors(client, tracer, venue, now - 24 * 3600, now).status_code == 200
    assert visitors(client, tracer, venue, now - 60, now, limit=1001).status_code == 422

    # a shard's start (where a page that ended with a shard's last visit tells the next to begin) is a cursor
    shard_start = {"venue": other["venue_id"], "pk": f"visits#{other['venue_id']}#0",
                   "sk": f"{rules.bucket(now - 60):010d}#"}
    restarted = visitors(client, tracer, other, now - 60, now + 60,
                         cursor=base64.urlsafe_b64encode(json.dumps(shard_start).encode()).decode())
    assert restarted.status_code == 200, restarted.json_body
    assert restarted.json_body == visitors(client, tracer, other, now - 60, now + 60).json_body
    assert len(restarted.json_body["list"]) == 3
    theirs = visitors(client, tracer, other, now - 60, now + 60, limit=1).json_body["next_cursor"]
    assert theirs
    key = json.loads(base64.urlsafe_b64decode(theirs))
    before = rules.bucket(now - 3 * 24 * 3600)
    forged = {**key, "sk": f"{before:010d}#" + key["sk"].split("#")[1]} if "#" in key["sk"] else key
    for cursor in ("not-a-cursor", theirs,
                   base64.urlsafe_b64encode(json.dumps(forged).encode()).decode(),
                   base64.urlsafe_b64encode(json.dumps({**key, "pk": key["pk"][:-1] + "99"}).encode()).decode()):
        refused = visitors(client, tracer, other if cursor != theirs else venue, now - 60, now + 60, cursor=cursor)
        assert refused.status_code == 422, (cursor, refused.json_body)
        assert [d["field"] for d in refused.json_body["error"]["details"]] == ["cursor"]


def test_stats_count_the_recorded_visits_from_counters_that_outlive_an_erasure(client, citizen, health_authority):
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    clock.shift(rules.bucket(clock.now()) + rules.VISIT_BUCKET_SECONDS + 10 - clock.now())   # early in a bucket
    start = clock.now()
    kept, erased = resident(citizen), resident(citizen)
    assert scan(client, kept, venue_token=token_of(venue)).status_code == 201
    first = scan(client, erased, venue_token=token_of(venue))
    assert first.status_code == 201
    clock.shift(60)
    assert scan(client, erased, venue_number=venue["number"]).status_code == 200     # the same visit: not counted
    assert stats(client, tracer, venue)["total"] == 2
    gone = shown(client, erased, first.json_body["visited_at"])

    erasure = client.post("/v1/me/erasure", headers=erased.headers, body=dump({"confirm": True}))
    assert erasure.status_code == 200, erasure.json_body
    listed = visitors(client, tracer, venue, start - 60, start + 600).json_body["list"]
    assert gone not in [(v["name_masked"], v["id_last4"], v["visited_at"]) for v in listed] and len(listed) == 1
    assert stats(client, tracer, venue)["total"] == 2          # counts name nobody: the erased visit still counts
    hour = (start + 8 * 3600) % 86400 // 3600                  # China Standard Time
    assert stats(client, tracer, venue)["hours"][hour]["visits"] == 2


def same_shard(citizen: Any, n: int) -> list[Any]:
    """N residents whose visits of a venue go to one shard (and so share its counter of the hour)."""
    by_shard: dict[int, list[Any]] = collections.defaultdict(list)
    while True:
        person = resident(citizen)
        group = by_shard[store.shard_of(authenticate("Bearer " + person.token).subject)]
        group.append(person)
        if len(group) == n:
            return group


def test_visits_of_one_shard_racing_for_its_counter_all_land_and_count(client, citizen, health_authority):
    """Each visit adds to its counter (ADD, in its own transaction), so none is lost to another's. DynamoDB Local
    runs these transactions one after the other (no TransactionConflict seen in 50 racing ones): the retry
    itself is the next test's."""
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    people = same_shard(citizen, 3)
    principals = [authenticate("Bearer " + p.token) for p in people]
    ready = threading.Barrier(len(principals))

    def one(principal: Any) -> dict[str, Any]:
        ready.wait()
        return service.visit(principal, venue["token"], None)

    with ThreadPoolExecutor(max_workers=len(principals)) as pool:
        results = list(pool.map(one, principals))
    assert [r["recorded"] for r in results] == [True] * len(principals)
    assert stats(client, tracer, venue)["total"] == len(principals)


def test_a_cancelled_visit_is_tried_again_and_counted_once(client, citizen, health_authority, monkeypatch):
    """DynamoDB cancels a transaction whose item another one is writing (TransactionConflict): the visit is
    tried again under the platform's one retry policy (services/versioned.py), and given up with 409 after
    ATTEMPTS losses, nothing written."""
    tracer = health_authority("44")
    venue = register(client, tracer, county_of("44"))
    transact, lost = dynamo.transact, []

    def conflicted(operations: list[dict[str, Any]], losses: int) -> None:
        if any("Update" in op and op["Update"]["Key"]["pk"]["S"].startswith("counts#") for op in operations) \
                and len(lost) < losses:
            lost.append(1)
            raise dynamo.TransactionConflict("another visit of the shard and hour")
        transact(operations)

    monkeypatch.setattr(dynamo, "transact", lambda ops: conflicted(ops, 2))
    first = scan(client, resident(citizen), venue_token=token_of(venue))
    assert first.status_code == 201 and len(lost) == 2
    assert stats(client, tracer, venue)["total"] == 1

    lost.clear()
    monkeypatch.setattr(dynamo, "transact", lambda ops: conflicted(ops, ATTEMPTS))
    refused = scan(client, resident(citizen), venue_token=token_of(venue))
    assert (refused.status_code, refused.json_body["error"]["code"]) == (409, "concurrent_update")
    monkeypatch.setattr(dynamo, "transact", transact)
    assert stats(client, tracer, venue)["total"] == 1
    assert len(visitors(client, tracer, venue, clock.now() - 60, clock.now() + 60).json_body["list"]) == 1

