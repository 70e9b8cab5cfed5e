"""The verify hot path (POST /v1/verifications) beside its floors, interleaved in rounds.

verify   : the whole request through chalice.test.Client: access token, body, the checkpoint's rate limit
           (counted in the container; one request in 50 writes the count alongside), ES256 QR token,
           one UpdateItem (people: notes the scan, returns the code), JSON response. The requests take
           turns among enough checkpoint clients that none reaches its limit (stack.checkpoints).
verify as Lambda runs it: the same request as an API Gateway event handed to `app.verify_api`, the
           verify function's handler, in-process: without chalice.test's local gateway (which copies
           os.environ and matches the route against every route on each request).
floor (a): what verify cannot avoid, in-process: qr_tokens.verify + one boto3 GetItem on the
           reused client (chalicelib.store.dynamo.client()).
floor (b): the same with the GetItem as a raw HTTP request on a kept-alive http.client
           connection (no botocore): the network + DynamoDB Local floor.
floor (c): the token check plus, on the same raw connection, the verify's own write: one UpdateItem of
           the same people item (`SET last_scan = :scan`, a scan of the verify's shape, the verify's
           `attribute_exists(pk)` condition, ReturnValues ALL_NEW), so the same item size is written and
           returned. The least a verify that durably records its scan can do; floor (b) only reads.
All kinds run in alternating rounds so JVM warm-up and drift affect each alike.
"""
from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from bench import stats
from bench.stack import Pool, checkpoints
from infra.local.dynamodb_local import ANY_SIGNATURE

CHECKPOINT_ID = "bench-gate-1"
RAW_HEADERS = {"Authorization": ANY_SIGNATURE, "Content-Type": "application/x-amz-json-1.0"}


class RawDynamo:
    """GetItem or UpdateItem as one hand-made HTTP/1.1 request on a connection kept alive between calls."""

    def __init__(self, endpoint: str):
        url = urlparse(endpoint)
        assert url.hostname is not None
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        self.reconnects = 0
        self._connect()

    def _connect(self) -> None:
        self.conn.close()
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as urllib3 and store/wire.py do

    def get_item(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        return self.call("GetItem", {"TableName": table, "Key": key})

    def note_scan(self, table: str, key: dict[str, Any], scan: dict[str, Any]) -> dict[str, Any]:
        """The UpdateItem of people.record_scan, hand-made: same expression, condition and answer."""
        return self.call("UpdateItem", {"TableName": table, "Key": key, "UpdateExpression": "SET last_scan = :scan",
                                        "ConditionExpression": "attribute_exists(pk)",
                                        "ExpressionAttributeValues": {":scan": scan}, "ReturnValues": "ALL_NEW"})

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**RAW_HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
        try:
            self.conn.request("POST", "/", body=json.dumps(body), headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # DynamoDB Local closed the connection while it sat idle through the other kinds' warm-up (seen on
            # a busy machine): open another and send again, once, as urllib3 and store/wire.py would
            self.reconnects += 1
            self._connect()
            self.conn.request("POST", "/", body=json.dumps(body), headers=headers)
            response = self.conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"raw {operation}: {response.status} {payload[:200]!r}")
        return json.loads(payload)

    def close(self) -> None:
        self.conn.close()


def _loop(step: Callable[[int], Any], start: int, count: int) -> tuple[list[int], float, list[Any]]:
    samples, outcomes = [], []
    clock = time.perf_counter_ns
    began = time.perf_counter()
    for i in range(start, start + count):
        t0 = clock()
        outcome = step(i)
        samples.append(clock() - t0)
        outcomes.append(outcome)
    return samples, time.perf_counter() - began, outcomes


class Steps:
    """One iteration of each measured kind, indexed so that tokens are used round-robin."""

    def __init__(self, http: Any, gates: list[dict[str, str]], pool: Pool, endpoint: str | None = None):
        from chalicelib.settings import get_settings
        from chalicelib.store import dynamo

        self.http, self.gates, self.pool = http, gates, pool
        self.settings = get_settings()
        self.people = self.settings.table("people")
        self.ddb = dynamo.client()
        self.raw = RawDynamo(endpoint) if endpoint else None
        self.rebuild()

    def rebuild(self) -> None:
        self.tokens = self.pool.tokens
        self.bodies = [json.dumps({"token": t, "checkpoint_id": CHECKPOINT_ID, "temperature": 36.6})
                       for t in self.tokens]

    def verify(self, i: int) -> Any:
        response = self.http.post("/v1/verifications", headers=self.gates[i % len(self.gates)],
                                  body=self.bodies[i % len(self.bodies)])
        return response.status_code, response.body

    def verify_lambda(self, i: int) -> Any:
        import app
        from tests.lambda_events import Context, rest_event

        event = rest_event("POST", "/v1/verifications", self.gates[i % len(self.gates)],
                           self.bodies[i % len(self.bodies)])
        response = app.verify_api(event, Context())
        return response["statusCode"], response["body"]

    def floor_a(self, i: int) -> Any:
        from chalicelib import clock
        from chalicelib.security import qr_tokens

        code_id = qr_tokens.verify(self.tokens[i % len(self.tokens)], self.settings.qr_token_ttl, clock.now())
        return "Item" in self.ddb.get_item(TableName=self.people, Key={"pk": {"S": code_id}})

    def floor_b(self, i: int) -> Any:
        from chalicelib import clock
        from chalicelib.security import qr_tokens

        code_id = qr_tokens.verify(self.tokens[i % len(self.tokens)], self.settings.qr_token_ttl, clock.now())
        assert self.raw is not None
        return "Item" in self.raw.get_item(self.people, {"pk": {"S": code_id}})

    def floor_c(self, i: int) -> Any:
        from chalicelib import clock
        from chalicelib.security import qr_tokens
        from chalicelib.security.access import Principal, Role
        from chalicelib.services.verifications import new_scan
        from chalicelib.store import dynamo, scans

        now = clock.now()
        code_id = qr_tokens.verify(self.tokens[i % len(self.tokens)], self.settings.qr_token_ttl, now)
        # a scan as the verify notes it (its own scan id, the checkpoint's id and area), so the item keeps its size
        scan = new_scan(Principal(Role.CHECKPOINT, "ch_" + "0" * 16, area="440106"), CHECKPOINT_ID, 36.6, now)
        assert self.raw is not None
        noted = dynamo.to_attr(scans.scan_map(scan))
        return "Attributes" in self.raw.note_scan(self.people, {"pk": {"S": code_id}}, noted)

    def token_only(self, i: int) -> Any:
        from chalicelib import clock
        from chalicelib.security import qr_tokens

        return qr_tokens.verify(self.tokens[i % len(self.tokens)], self.settings.qr_token_ttl, clock.now())


def _check_verify(outcomes: list[Any]) -> tuple[int, int]:
    valid = sum(1 for status, body in outcomes if status == 200 and json.loads(body).get("valid") is True)
    return valid, len(outcomes)


def run(http: Any, pool: Pool, endpoint: str, *, n: int = 2000,
        warmup: int = 300, rounds: int = 4, log: Callable[[str], None] = print) -> dict[str, Any]:
    steps = Steps(http, checkpoints(http, 2 * (warmup + n)), pool, endpoint)  # verify and verify_lambda
    kinds = {"verify": steps.verify, "verify_lambda": steps.verify_lambda, "floor_a": steps.floor_a,
             "floor_b": steps.floor_b, "floor_c": steps.floor_c}
    def fresh() -> None:
        # before each kind, not each round: on a loaded machine one kind's warm-up outlived the tokens
        if pool.keep_fresh():
            steps.rebuild()
            log("  (QR tokens re-issued: they live for minutes)")

    for step in kinds.values():
        fresh()
        _loop(step, 0, warmup)
    log(f"  warm-up: {warmup} of each kind")
    samples: dict[str, list[int]] = {k: [] for k in kinds}
    walls = dict.fromkeys(kinds, 0.0)
    checks = {k: [0, 0] for k in kinds}
    per_round = n // rounds
    for r in range(rounds):
        for name, step in kinds.items():
            fresh()
            got, wall, outcomes = _loop(step, r * per_round, per_round)
            samples[name] += got
            walls[name] += wall
            if name.startswith("verify"):
                ok, total = _check_verify(outcomes)
            else:
                ok, total = sum(1 for o in outcomes if o is True), len(outcomes)
            checks[name][0] += ok
            checks[name][1] += total
        log(f"  round {r + 1}/{rounds}: {per_round} of each kind")
    token_samples, token_wall, _ = _loop(steps.token_only, 0, n)
    if steps.raw:
        if steps.raw.reconnects:
            times = steps.raw.reconnects
            log(f"  (DynamoDB Local closed the idle raw connection {'once' if times == 1 else f'{times} times'}: "
                f"opened again)")
        steps.raw.close()
    result: dict[str, Any] = {name: stats.latency(samples[name], walls[name]) for name in kinds}
    result["token_verify"] = stats.latency(token_samples, token_wall)
    result["checks"] = {k: tuple(v) for k, v in checks.items()}
    return result


# --- where a verify request's time goes -------------------------------------------------------------

class _Timer:
    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, ns: int) -> None:
        self.totals[name] = self.totals.get(name, 0) + ns
        self.counts[name] = self.counts.get(name, 0) + 1

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter_ns() - t0)
        return timed


AUTH, BODY, SERVICE, TOKEN = ("auth: access token (HS256)", "body: read + pydantic", "service total",
                              "QR token check (ES256)")


@contextmanager
def _patched(timer: _Timer) -> Iterator[None]:
    """Time the parts of the verify route by wrapping module attributes and the DynamoDB client's
    _make_api_call (every operation, whichever store function sends it); all restored afterwards."""
    from chalicelib.api import http  # the declared route (chalicelib/api/routes.py) authorises and reads through it
    from chalicelib.security import qr_tokens
    from chalicelib.services import verifications as service
    from chalicelib.store import dynamo

    targets = [(http, "principal", AUTH), (http, "body", BODY), (service, "verify", SERVICE),
               (qr_tokens, "verify", TOKEN)]
    originals = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in targets if hasattr(obj, attr)]
    for obj, attr, label in targets:
        if hasattr(obj, attr):
            setattr(obj, attr, timer.wrap(label, getattr(obj, attr)))
    client = dynamo.client()
    api_call = client._make_api_call

    def make_api_call(operation: str, params: dict[str, Any]) -> Any:
        return timer.wrap(f"DynamoDB {operation} (boto3 call)", api_call)(operation, params)

    client._make_api_call = make_api_call  # an instance attribute shadows the class's method
    from chalicelib.store import wire

    direct_call, direct_attempt = wire.Wire.call, wire.Wire._attempt

    def call(self: Any, operation: str, request: dict[str, Any]) -> Any:
        return timer.wrap(f"DynamoDB {operation} (direct call)", direct_call)(self, operation, request)

    def attempt(self: Any, target: str, payload: bytes) -> Any:
        operation = target.rsplit(".", 1)[-1]
        return timer.wrap(f"DynamoDB {operation}: HTTP round trip + parse", direct_attempt)(self, target, payload)

    wire.Wire.call, wire.Wire._attempt = call, attempt  # type: ignore[method-assign]  # timing the wire's own work
    sent: list[int] = []

    def before_send(**_: Any) -> None:
        sent.append(time.perf_counter_ns())

    def received(event_name: str = "", **_: Any) -> None:
        if sent:
            operation = event_name.rsplit(".", 1)[-1]
            timer.add(f"DynamoDB {operation}: HTTP round trip + parse", time.perf_counter_ns() - sent.pop())

    client.meta.events.register("before-send.dynamodb.*", before_send, unique_id="bench-before-send")
    client.meta.events.register("response-received.dynamodb.*", received, unique_id="bench-received")
    try:
        yield
    finally:
        for obj, attr, original in originals:
            setattr(obj, attr, original)
        del client._make_api_call
        wire.Wire.call, wire.Wire._attempt = direct_call, direct_attempt  # type: ignore[method-assign]  # restored
        client.meta.events.unregister("before-send.dynamodb.*", unique_id="bench-before-send")
        client.meta.events.unregister("response-received.dynamodb.*", unique_id="bench-received")


def breakdown(http: Any, checkpoint: dict[str, str], pool: Pool, n: int = 500) -> dict[str, float]:
    """Mean milliseconds per verify request spent in each part (a separate, instrumented pass)."""
    pool.keep_fresh()
    steps = Steps(http, [checkpoint], pool)
    timer = _Timer()
    with _patched(timer):
        began = time.perf_counter_ns()
        for i in range(n):
            steps.verify(i)
        total = time.perf_counter_ns() - began
    ms = {k: v / n / 1e6 for k, v in timer.totals.items()}
    out = {"request total": total / n / 1e6}
    for label in (AUTH, BODY, SERVICE, TOKEN):
        if label in ms:
            out[label] = ms[label]
    calls = sorted(k for k in ms if k.endswith(("(boto3 call)", "(direct call)")))
    for call in calls:
        operation, _, how = call.removeprefix("DynamoDB ").partition(" (")
        per_request = timer.counts[call] / n
        out[f"{call}, {per_request:g} per request"] = ms[call]
        sent = ms.get(f"DynamoDB {operation}: HTTP round trip + parse", 0.0)
        out[f"  {operation}: HTTP round trip + response parse"] = sent
        before = ("botocore before sending (validate, serialize, endpoint, sign)" if how.startswith("boto3")
                  else "before sending (JSON, SigV4), retry loop")
        out[f"  {operation}: {before}"] = ms[call] - sent
    out["service: rest (chalicelib item conversion, color rules)"] = (
        ms.get(SERVICE, 0.0) - ms.get(TOKEN, 0.0) - sum(ms[c] for c in calls))
    out["Chalice + test harness (event, routing, middleware, response)"] = out["request total"] - (
        ms.get(AUTH, 0.0) + ms.get(BODY, 0.0) + ms.get(SERVICE, 0.0))
    return out
