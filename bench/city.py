"""City outbreak (issue 14): one prefecture's level goes up over N stays, and what follows is timed.

Seeded with BatchWriteItem as the platform would have stored it: one code per person, built by the rules as
`assessment.refresh` stores it (domain/risk.assess; the stays, fever and area corrections a code keeps), and
the person's stay indexed as `services/trips._stay` + `store/visits.put_op` write it (`visits.by_city_shard`).
One stay per person, so every index entry is a code to rewrite: the fan-out's most work per stay. One person
in DECLARED_EVERY declared a cough (yellow already: the change adds a reason, not a color); one in
HOOKED_EVERY of the others holds a Guangdong local code, so Guangdong's webhook hears of their change.

Then, with the local pump running as Lambda runs the event sources (a thread per stream), it sends
`PUT /v1/areas/440100` (medium) as a health authority, right behind it an exposure of a flight and another
province's level change (the unrelated events), and times from the answers:
- reads: sampled codes through POST /v1/verifications in this process (the container that made the change:
  the PUT forgot its copy of the levels) and in a verify-function process of its own (another container, as
  every verify container is in AWS, its copy read just before the PUT: the worst case, which lasts
  HEALTHCODE_AREA_LEVELS_MAX_AGE);
- the unrelated events: the passenger reads yellow (a voyage unit must run first), the other province's
  visitors read yellow, and their stored codes are written;
- the stored codes of all N (the area units: a chain per visits.CITY_SHARDS shard, fanout.AREA_PAGE index
  entries a unit) and the webhooks;
- DynamoDB calls: the PUT's, and every call the pump's handlers and their worker threads make.
Last, the people item's size as DynamoDB counts it (what a verify's UpdateItem is billed on).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import stack, stats
from bench.dynamo_calls import recording
from bench.sources import _batch_write
from bench.stack import DECLARATION, ROOT, dump
from chalicelib import clock
from chalicelib.domain import days, divisions
from chalicelib.domain.areas import Visit
from chalicelib.domain.colors import Color, live_color, next_change
from chalicelib.domain.declaration import Declaration
from chalicelib.domain.names import mask_name
from chalicelib.domain.risk import RiskInputs, stay_facts
from chalicelib.events import fanout
from chalicelib.security import pseudonyms, qr_tokens
from chalicelib.security.access import Principal, Role
from chalicelib.services import assessment, trips
from chalicelib.settings import get_settings
from chalicelib.store import dynamo, localcodes, people, visits

PREFECTURE = "440100"            # Guangzhou
PROVINCE_OF_HOOK = PREFECTURE[:2]   # Guangdong: its webhook, and the local codes that make it hear of people
OTHER_PREFECTURE = "320100"      # Nanjing: another province's change, written right behind
HOME = "110101"                  # Beijing Dongcheng, never raised: where the passenger and the visitors live
LEVEL = "medium"                 # a stay in a medium-risk area makes a code yellow (docs/colors.md)
SAMPLED = 20                     # codes read through verifications, in each container
OTHER_VISITORS = 10              # people who stayed in the other prefecture
DECLARED_EVERY = 33              # one person in 33 declared a cough
HOOKED_EVERY = 100               # one in 100 of the others holds a Guangdong local code
DAY = 86400
GATE = "bench-city-gate"
# threads of this process whose DynamoDB calls are not the fan-out's: the bench's own requests, the levels
# reader their verifies use, the bench's threads (the pump's schedules, sweeper and webhook retries, run in
# `bench-pump`); the scans function's thread (`pump-<prefix>-scans`) is left out too: it writes the rows of
# the sampling verifies' scans
NOT_FAN_OUT = ("MainThread", "area-levels", "bench-")


@dataclass
class Crowd:
    clean: list[str]         # person references of those green before the change
    hooked: list[str]        # of the clean, those holding a Guangdong local code
    items: int
    built_s: float
    written_s: float
    seeded_item: dict[str, Any]   # one clean person's code, as written


def code_item(person: str, declaration: Declaration, declared_at: int, stays: list[Visit], now: int,
              name_masked: str, id_last4: str) -> dict[str, Any]:
    """The code `assessment.refresh` stores for a person with these sources (see its `_store`): the rules'
    reasons by source, their color, the next moment one lapses, and the facts reads judge the stays by."""
    inputs = RiskInputs(declaration=declaration, declared_at=declared_at, visits=stays)
    sources = assessment.assessed(inputs, now)
    reasons = [r for rs in sources.values() for r in rs]
    return people.item_of(people.Code(
        pseudonyms.code_id(person), person, name_masked, id_last4, "active", 1, live_color(reasons, now), declared_at,
        declared_at, sources, people.kept_facts(stay_facts(inputs, now)), declaration.model_dump(mode="json"),
        declared_at, next_change(reasons, now)))


def local_code_items(person: str, province: str, local_code_id: str, id_last4: str, now: int) -> list[dict[str, Any]]:
    """A province's green local code of the person and its alias, as sync.push_local_codes and
    localcodes.write_batch store them (without the sync's event: nothing is to be recomputed)."""
    return list(localcodes.items_of(localcodes.ProvinceCode(person, province, Color.GREEN, local_code_id, now - DAY,
                                                            now - DAY, None, 1, id_last4, now - DAY)))


def seed_crowd(n: int, now: int, chunk: int = 10_000) -> Crowd:
    """The crowd, built and written `chunk` people at a time, so that memory stays bounded at any size."""
    from tests import people as generated

    counties = [c for c in divisions.all_counties() if c.startswith(PREFECTURE[:4])]
    declarations = {(county, cough): Declaration.model_validate({**DECLARATION, "current_area": county,
                                                                 "symptoms": ["cough"] if cough else []})
                    for county in counties for cough in (False, True)}
    today = days.today(now)
    crowd = Crowd([], [], 0, 0.0, 0.0, {})
    for first in range(0, n, chunk):
        t0 = time.perf_counter()
        code_items, stays, held = [], [], []
        for i in range(first, min(n, first + chunk)):
            person = secrets.token_hex(16)    # what pseudonyms.person_ref gives: 128 bits of an HMAC, in hex
            county, back = counties[i % len(counties)], i % 14   # inside the window, whatever the hour
            day = today - dt.timedelta(days=back)
            cough = i % DECLARED_EVERY == 0
            id_last4 = generated.id_number()[-4:]
            code_items.append(code_item(person, declarations[county, cough], now - back * DAY - 3600,
                                        [Visit(day, county, "checkin")], now, mask_name(generated.name()), id_last4))
            stays.append(visits.put_op(trips._stay(person, day, county, "checkin", "day", now))["Put"]["Item"])
            if not cough:
                crowd.clean.append(person)
                if not crowd.seeded_item:
                    crowd.seeded_item = code_items[-1]
                if len(crowd.clean) % HOOKED_EVERY == 1:
                    crowd.hooked.append(person)
                    held += local_code_items(person, PROVINCE_OF_HOOK, f"gd{i:08d}", id_last4, now)
        t1 = time.perf_counter()
        _batch_write("people", code_items)
        _batch_write("visits", stays, encoded=True)
        _batch_write("localcodes", held)
        crowd.built_s += t1 - t0
        crowd.written_s += time.perf_counter() - t1
        crowd.items += len(code_items) + len(stays) + len(held)
    return crowd


# --- reading colors ---------------------------------------------------------------------------------

def verify_body(code_id: str) -> str:
    """A verification request for a QR token of the code issued just now (tokens live for minutes)."""
    token, _ = qr_tokens.issue(code_id, clock.now(), get_settings().qr_token_ttl)
    return json.dumps({"token": token, "checkpoint_id": GATE})


class Here:
    """POST /v1/verifications in this process: the container that made the change."""

    def __init__(self, http: Any, checkpoint: dict[str, str]):
        self.http, self.checkpoint = http, checkpoint

    def color(self, code_id: str) -> str:
        response = self.http.post("/v1/verifications", headers=self.checkpoint, body=verify_body(code_id))
        if response.status_code != 200 or response.json_body.get("valid") is not True:
            raise RuntimeError(f"verify: {response.status_code} {response.json_body}")
        return response.json_body["color"]


# Another container: a verify-function process (HEALTHCODE_FUNCTION=verify, its handler given API Gateway
# events, as cold_start.py runs one) that verifies what it is sent, a request a line, and answers with the
# color and when its copy of the area levels was read. "forget" makes its next verify read the levels.
ELSEWHERE = r"""
import json, sys
import app
from chalicelib.services import area_levels
from tests.lambda_events import Context, json_body, rest_event

headers = json.loads(sys.stdin.readline())
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "forget":
        area_levels.forget()
        print("{}", flush=True)
        continue
    body = line.rstrip("\n")
    answer = json_body(app.verify_api(rest_event("POST", "/v1/verifications", headers, body), Context()))
    print(json.dumps({"color": answer.get("color"), "valid": answer.get("valid"), "reason": answer.get("reason"),
                      "read_at": area_levels._read_at}), flush=True)
"""


class Elsewhere:
    """The other container's process, verifying as Here does; `read_at` is when its copy was last read."""

    def __init__(self, checkpoint: dict[str, str]):
        # the app's log lines, read only if the process fails; open as long as the process, closed by stop()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-c", ELSEWHERE], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log,
                                        env={**os.environ, "HEALTHCODE_FUNCTION": "verify"})
        self.read_at = 0.0
        if self._ask(json.dumps(checkpoint)) != "ready":
            raise RuntimeError(f"the other container did not start: {self._failure()}")

    def _ask(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"the other container failed: {self._failure()}")
        return answer

    def _failure(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:]

    def color(self, code_id: str) -> str:
        answer = json.loads(self._ask(verify_body(code_id)))
        if answer["valid"] is not True:
            raise RuntimeError(f"verify in the other container: {answer}")
        self.read_at = answer["read_at"]
        return answer["color"]

    def read_levels_now(self, code_id: str) -> None:
        """Its copy read afresh, by a verify: from here on it is as old as a copy gets before the change."""
        self._ask("forget")
        self.color(code_id)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()


@contextmanager
def elsewhere(checkpoint: dict[str, str]) -> Iterator[Elsewhere]:
    other = Elsewhere(checkpoint)
    try:
        yield other
    finally:
        other.close()


# --- what is measured -------------------------------------------------------------------------------

class Sampled:
    """Codes as one container reads them. Its copy of the levels decides all of them at once, so a poll
    verifies the next code in turn until one reads yellow, and the next poll every other: the first yellow is
    the moment the change reached the container (within a poll), the last the end of that pass. Few verifies,
    so little load beside the fan-out."""

    def __init__(self, read: Callable[[str], str], code_ids: list[str]):
        self.read, self.pending = read, list(code_ids)
        self.yellow: list[float] = []             # time.time() of each code's first yellow answer
        self.last_green: float | None = None      # of the latest answer that was not yet yellow

    def poll(self) -> bool:
        for code in list(self.pending if self.yellow else self.pending[:1]):
            self.pending.remove(code)
            if self.read(code) == "yellow":
                self.yellow.append(time.time())
            else:
                self.last_green = time.time()
                self.pending.append(code)
        return not self.pending

    def figures(self, since: float, sampled: int) -> dict[str, Any]:
        """Seconds after `since`: first and last yellow (None if not every code got there), last green."""
        return {"first": self.yellow[0] - since if self.yellow else None,
                "last": self.yellow[-1] - since if len(self.yellow) == sampled else None,
                "last_green": None if self.last_green is None else self.last_green - since, "sampled": sampled}


@dataclass
class Probe:
    name: str
    poll: Callable[[], bool]   # True once what it waits for holds
    reads: bool                # it verifies: polled every tenth of a second while any is left
    alone: bool = False        # polled by a thread of its own, so the others' verifies cannot delay it
    at: float | None = None    # time.time() when it first held


def chains_done(units: list[stack.UnitRun], area: str) -> int:
    """How many of the area change's shard chains (one per visits.CITY_SHARDS) have run their last page."""
    return len({u.params["shard"] for u in units if u.kind == "area" and u.params["area"] == area
                and not u.continues})


def watch(probes: list[Probe], deadline: float, progress: Callable[[], str], log: Callable[[str], None]) -> None:
    """Poll each probe until it holds or the deadline passes; say how far the fan-out is every 30 s."""
    def alone(probe: Probe) -> None:
        while time.time() < deadline:
            if probe.poll():
                probe.at = time.time()
                return
            time.sleep(0.1)

    threads = [threading.Thread(target=alone, args=(p,), name=f"bench-{p.name}", daemon=True)
               for p in probes if p.alone]
    for thread in threads:
        thread.start()
    pending = [p for p in probes if not p.alone]
    began = told = time.time()
    while pending and time.time() < deadline:
        for probe in list(pending):
            if probe.poll():
                probe.at = time.time()
                pending.remove(probe)
        if time.time() - told >= 30:
            told = time.time()
            log(f"    … {told - began:.0f} s: {progress()}")
        # a tenth of a second between reads: precise enough, and little load beside the fan-out
        time.sleep(0.1 if any(p.reads for p in pending) else 0.25)
    for thread in threads:
        thread.join(max(0.0, deadline - time.time()))


def unrelated_people(http: Any, number: str) -> tuple[str, list[str]]:
    """Through the API: a passenger of `number` today, and people who drove to the other prefecture."""
    today = days.today(clock.now()).isoformat()

    def traveller(trip: dict[str, Any]) -> str:
        citizen = stack.new_citizen(http)
        response = http.post("/v1/trips", headers=citizen.headers,
                             body=dump({"date": today, "from": HOME, "to": "310101", **trip}))
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/trips: {response.status_code} {response.json_body}")
        return citizen.code_id

    county = next(c for c in divisions.all_counties() if c.startswith(OTHER_PREFECTURE[:4]))
    return traveller({"mode": "flight", "number": number}), [traveller({"mode": "car", "to": county})
                                                             for _ in range(OTHER_VISITORS)]


def fan_out_calls(calls: Any) -> list[tuple[str, float]]:
    """The calls of the pump's handlers and their workers, with when each was sent: every thread but the
    bench's own (NOT_FAN_OUT) and the scans function's, less the pump's DescribeTable (it looks for new stream
    shards once a second)."""
    return [(what, at) for what, thread, at in zip(calls, calls.threads, calls.times, strict=False)
            if not thread.startswith(NOT_FAN_OUT) and not thread.endswith("-scans")
            and not what.startswith("DescribeTable")]


def settle(calls: Any, deadline: float, quiet_s: float = 3.0) -> None:
    """Wait until the handlers have sent nothing for `quiet_s`: the events function may still be taking the
    color changes of people whose province subscribed no webhook after the last webhook arrived."""
    while time.time() < deadline:
        sent = fan_out_calls(calls)
        if sent and time.time() - sent[-1][1] >= quiet_s:
            return
        time.sleep(0.5)


def count_people(condition: str, values: dict[str, Any], names: dict[str, str]) -> int:
    request = {"TableName": dynamo.table("people"), "Select": "COUNT", "FilterExpression": condition,
               "ExpressionAttributeValues": dynamo.to_item(values), "ExpressionAttributeNames": names}
    total = 0
    while True:
        page = dynamo.client().scan(**request)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(n: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    from chalicelib.services import webhooks
    from tests.receiver import Receiver

    http = stack.http_client()
    crowd = seed_crowd(n, clock.now())
    log(f"  seeded {n:,} codes, {n:,} stays and {len(crowd.hooked)} local codes with their aliases "
        f"({crowd.items:,} items): built in {crowd.built_s:.1f} s, written in {crowd.written_s:.1f} s "
        f"({crowd.items / crowd.written_s:,.0f} items/s, BatchWriteItem on 4 threads)")
    checkpoint = stack.checkpoint_headers(http)
    authority = {p: stack.client_headers(http, Role.HEALTH_AUTHORITY, "bench authority", province=p)
                 for p in (PROVINCE_OF_HOOK, OTHER_PREFECTURE[:2], "31")}
    number = f"CZ{1000 + secrets.randbelow(9000)}"
    passenger, visitors = unrelated_people(http, number)
    picked = secrets.SystemRandom().sample(crowd.clean, min(SAMPLED, len(crowd.clean)))
    sampled = [pseudonyms.code_id(p) for p in picked]
    here = Here(http, checkpoint)
    before = Counter(here.color(c) for c in [*sampled, passenger, *visitors])
    if set(before) != {"green"}:
        raise RuntimeError(f"before the change the sampled codes read {dict(before)}, not all green")
    receiver = Receiver(keep_alive=True, idle_seconds=30).start()
    try:
        hook = webhooks.create(Principal(Role.PROVINCE, "bench-guangdong", province=PROVINCE_OF_HOOK), receiver.url,
                               ["area.level_changed", "person.color_changed"], "bench city")
        receiver.secrets.append(hook["secret"])
        expected_hooks = len(crowd.hooked) + 1

        def delivered() -> int:
            bodies = [d["body"] for d in receiver.unique().values()]
            return sum(1 for b in bodies if b["type"] == "person.color_changed"
                       or (b["type"] == "area.level_changed" and b["data"]["area"] == PREFECTURE))

        with elsewhere(checkpoint) as other, stack.pump_running() as pump, stack.units_run() as units, \
                recording() as calls:
            read_here, read_elsewhere = Sampled(here.color, sampled), Sampled(other.color, sampled)
            other.read_levels_now(sampled[0])   # the worst case: a copy read just before the change
            copy_read_at = other.read_at
            sent = time.time()
            answer = http.put(f"/v1/areas/{PREFECTURE}", headers=authority[PROVINCE_OF_HOOK],
                              body=dump({"level": LEVEL}))
            put_at = time.time()
            put_calls = [c for c, t in zip(calls, calls.threads, strict=False) if t == "MainThread"]
            if answer.status_code != 200:
                raise RuntimeError(f"PUT /v1/areas/{PREFECTURE}: {answer.status_code} {answer.json_body}")
            read_here.poll()   # one verify here at once; the unrelated events right behind it
            published = http.post("/v1/exposures", headers=authority["31"], body=dump(
                {"mode": "flight", "number": number, "date": days.today(clock.now()).isoformat(),
                 "case_type": "confirmed"}))
            published_at = time.time()
            changed = http.put(f"/v1/areas/{OTHER_PREFECTURE}", headers=authority[OTHER_PREFECTURE[:2]],
                               body=dump({"level": LEVEL}))
            changed_at = time.time()
            if published.status_code != 201 or changed.status_code != 200:
                raise RuntimeError(f"unrelated events: {published.status_code} {changed.status_code}")
            read_passenger, read_visitors = Sampled(here.color, [passenger]), Sampled(here.color, visitors)
            shards = visits.CITY_SHARDS
            probes = {"here": Probe("here", read_here.poll, True),
                      # its verifies wait on another process: a thread of its own times them alone
                      "elsewhere": Probe("elsewhere", read_elsewhere.poll, True, alone=True),
                      "passenger": Probe("passenger", read_passenger.poll, True),
                      "visitors": Probe("visitors", read_visitors.poll, True),
                      "visitors stored": Probe("visitors stored",
                                               lambda: chains_done(units, OTHER_PREFECTURE) == shards, False),
                      "stored": Probe("stored", lambda: chains_done(units, PREFECTURE) == shards, False),
                      "webhooks": Probe("webhooks", lambda: delivered() >= expected_hooks, False)}

            def progress() -> str:
                written = sum(u.written for u in units if u.kind == "area" and u.params["area"] == PREFECTURE)
                return f"{written:,} of {n:,} stored codes written; {delivered()} of {expected_hooks} webhooks"

            deadline = put_at + 300 + n / 50
            watch(list(probes.values()), deadline, progress, log)
            settle(calls, deadline)
            failures = pump.failures
        city_units = [u for u in units if u.kind == "area" and u.params["area"] == PREFECTURE]
        stored_area = count_people("begins_with(#s, :city) AND attribute_exists(#src.#area)", {":city": "4401"},
                                   {"#s": "stays", "#src": "sources", "#area": "area"})
        stored_yellow = count_people("begins_with(#s, :city) AND #c = :y", {":city": "4401", ":y": "yellow"},
                                     {"#s": "stays", "#c": "color"})
        hooks_delivered = delivered()
    finally:
        receiver.stop()

    def after(name: str, since: float) -> float | None:
        at = probes[name].at
        return None if at is None else at - since

    written = sum(u.written for u in city_units)
    durations = [u.ended - u.began for u in city_units]
    stored_s = after("stored", put_at)
    fan_out = fan_out_calls(calls)
    return {
        "stays": n, "crowd": crowd, "max_age_s": get_settings().area_levels_max_age, "put_ms": (put_at - sent) * 1000,
        "here": read_here.figures(put_at, len(sampled)), "elsewhere": read_elsewhere.figures(put_at, len(sampled)),
        "elsewhere_copy_age_s": put_at - copy_read_at,
        "passenger_s": after("passenger", published_at), "visitors_read_s": after("visitors", changed_at),
        "visitors_stored_s": after("visitors stored", changed_at),
        "stored_s": stored_s, "written": written, "codes_per_s": written / stored_s if stored_s else None,
        "units": len(city_units),
        "unit": stats.latency([int(d * 1e9) for d in durations], sum(durations)) if len(durations) > 1 else None,
        "stored_area": stored_area, "stored_yellow": stored_yellow, "declared": n - len(crowd.clean),
        "webhooks_s": after("webhooks", put_at), "webhooks": hooks_delivered, "webhooks_expected": expected_hooks,
        "put_calls": put_calls, "fan_out_calls": Counter(what for what, _ in fan_out), "failures": failures,
        "fan_out_s": fan_out[-1][1] - put_at if fan_out else None,
        "sizes": item_sizes(crowd, sampled[0], here),
    }


# --- the people item's size -------------------------------------------------------------------------

def value_size(attribute: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (the Developer Guide, "DynamoDB item sizes and formats")."""
    (kind, value), = attribute.items()
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        significant = value.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(significant) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(value)) if isinstance(value, str) else len(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":   # 3 bytes for the map, and each element its name, its value and 1 byte
        return 3 + sum(len(name.encode()) + value_size(v) + 1 for name, v in value.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in value)
    if kind == "SS":
        return sum(len(v.encode()) for v in value)
    raise TypeError(f"no size rule for {kind}")


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def stored_item(code_id: str) -> dict[str, Any]:
    return dynamo.client().get_item(TableName=dynamo.table("people"), Key={"pk": {"S": code_id}},
                                    ConsistentRead=True)["Item"]


def frequent_traveller() -> str:
    """A person with a check-in and a train trip every day of the window, on a route through 14 prefectures
    (Guangzhou and Nanjing among them, both raised by now), built by the services themselves, a day at a
    time on a clock set back: the code is exactly what refresh stores. Its code id."""
    from chalicelib.domain.transport import Mode
    from chalicelib.services import codes as code_service
    from tests import people as generated

    route = ["440106", "320102", *sorted({c[:4]: c for c in divisions.all_counties()
                                           if c[:2] not in ("44", "32")}.values())[::23][:12]]
    person = secrets.token_hex(16)
    citizen = Principal(Role.CITIZEN, person, name_masked=mask_name(generated.name()),
                        id_last4=generated.id_number()[-4:])
    try:
        for back in range(13, -1, -1):
            clock.reset()
            clock.shift(-back * DAY)
            here, there = route[back % len(route)], route[(back + 1) % len(route)]
            if back == 13:
                code_service.apply(citizen, Declaration.model_validate({**DECLARATION, "current_area": here}))
            trips.check_in(person, here, 36.5, [])
            trips.declare(person, days.today(clock.now()), here, there, Mode.TRAIN, f"G{1001 + back}", "07F", 7)
    finally:
        clock.reset()
    return pseudonyms.code_id(person)


def item_sizes(crowd: Crowd, sampled: str, here: Here) -> dict[str, dict[str, Any]]:
    """Bytes and WCU of a verify's UpdateItem (1 per KB of the larger of the item before and after; with a
    scan noted, both are the same size) for a seeded person as seeded, the same person after the change with a
    scan noted, and a frequent traveller with a scan noted. The pump is stopped: nothing else writes."""
    traveller = frequent_traveller()
    here.color(traveller)     # a verify notes its scan, as every scanned code carries one
    found = {"seeded person, as seeded": dynamo.to_item(crowd.seeded_item),
             "seeded person after the change, a scan noted": stored_item(sampled),
             "14 days of daily check-ins and trips, a scan noted": stored_item(traveller)}
    sizes = {}
    for label, item in found.items():
        size = item_size(item)
        stays = item.get("stays", {}).get("S", "")
        by_attribute = {name: len(name.encode()) + value_size(value) for name, value in item.items()}
        sizes[label] = {"bytes": size, "wcu": math.ceil(size / 1024), "stays_bytes": len(stays.encode()),
                        "stay_pairs": sum(len(g.split(":")[1].split(",")) for g in stays.split(";") if g),
                        "attributes": len(item),
                        "largest": sorted(by_attribute.items(), key=lambda kv: -kv[1])[:4]}
    return sizes


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.2f}"


def report(city: dict[str, Any], say: Callable[[str], None]) -> None:
    """The section's lines (python -m bench prints them as it goes)."""
    here, other = city["here"], city["elsewhere"]

    def reads(found: dict[str, Any]) -> str:
        green = found["last_green"]
        last_green = "none read green after the PUT" if green is None else f"the last green answer at {green:.2f} s"
        return (f"first {seconds(found['first'])} s, last {seconds(found['last'])} s of {found['sampled']} sampled "
                f"codes ({last_green})")

    say(f"  PUT /v1/areas/{PREFECTURE} answered in {city['put_ms']:.0f} ms; {len(city['put_calls'])} DynamoDB calls: "
        f"{', '.join(city['put_calls'])}")
    say(f"  verify reads the new color in the container that made the change (the PUT forgot its copy of the "
        f"levels): {reads(here)}")
    say(f"  in another container (a verify-function process whose copy was read {city['elsewhere_copy_age_s']:.2f} s "
        f"before the PUT answered; max age {city['max_age_s']:g} s): {reads(other)}")
    say(f"  an exposure published right after: its passenger reads yellow {seconds(city['passenger_s'])} s after the "
        f"publication answered")
    say(f"  another province's change right after: its {OTHER_VISITORS} visitors read yellow after "
        f"{seconds(city['visitors_read_s'])} s; their stored codes are written after "
        f"{seconds(city['visitors_stored_s'])} s")
    rate = f"{city['codes_per_s']:,.0f} codes/s" if city["codes_per_s"] else "-"
    say(f"  stored codes up to date after {seconds(city['stored_s'])} s: {city['written']:,} written by "
        f"{city['units']} units ({rate}); the people table then holds {city['stored_area']:,} crowd codes with an "
        f"area reason, {city['stored_yellow']:,} yellow (of {city['stays']:,}; {city['declared']:,} were yellow "
        f"already)")
    if city["unit"]:
        unit = city["unit"]
        say(f"  one area unit (up to {fanout.AREA_PAGE} index entries): p50 {unit.p50_ms / 1000:.2f} s, "
            f"max {unit.max_ms / 1000:.2f} s")
    say(f"  webhooks of the change: {city['webhooks']} of {city['webhooks_expected']} delivered after "
        f"{seconds(city['webhooks_s'])} s; stream handlers that raised: {city['failures']}")
    total = sum(city["fan_out_calls"].values())
    per_code = f" ({total / city['written']:.2f} per code written)" if city["written"] else ""
    say(f"  DynamoDB calls of the fan-out (events, fanout and catchup functions, the three events): "
        f"{total:,}{per_code}; the last sent {seconds(city['fan_out_s'])} s after the PUT")
    for what, count in city["fan_out_calls"].most_common(12):
        say(f"    {count:8,}  {what}")
    for label, size in city["sizes"].items():
        say(f"  people item, {label}: {size['bytes']:,} bytes, {size['wcu']} WCU per verify ({size['attributes']} "
            f"attributes; stays {size['stays_bytes']} bytes, {size['stay_pairs']} area-days; largest "
            + ", ".join(f"{name} {size_}" for name, size_ in size["largest"]) + ")")
