"""Which DynamoDB operations each API call makes, seen by a botocore event handler on the shared client
and by wrapping the botocore-free hot-path call (chalicelib/store/wire.py).

`provide-client-params.dynamodb.*` fires once per client method call with the
operation model and the caller's parameters (table, index, ConsistentRead); retries of
the same call are not counted again. Both hooks see every thread of the process (the one
client and the `Wire` class are shared), so a recording also holds what the local pump's
handlers and their worker threads send; each call notes the thread that made it.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.stack import DECLARATION, Citizen, dump, new_citizen, refresh_qr

HANDLER_ID = "bench-dynamo-calls"


class Calls(list[str]):
    """The calls recorded, in order; `threads[i]` names the thread that sent the i-th, `times[i]` when
    (time.time())."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.times: list[float] = []
        self._lock = threading.Lock()

    def note(self, what: str) -> None:
        with self._lock:  # the lists stay aligned when threads record at once
            self.append(what)
            self.threads.append(threading.current_thread().name)
            self.times.append(time.time())


def _tables(params: dict[str, Any], prefix: str) -> str:
    """The tables a call names: its own, a batch's, or each item's of a transaction (people+events+audit)."""
    if params.get("TableName"):
        names = [params["TableName"]]
    elif params.get("RequestItems"):
        names = list(params["RequestItems"])
    else:
        names = [next(iter(item.values())).get("TableName", "") for item in params.get("TransactItems", [])]
    return "+".join(dict.fromkeys(n.removeprefix(prefix) for n in names if n))


@contextmanager
def recording() -> Iterator[Calls]:
    from chalicelib.settings import get_settings
    from chalicelib.store import dynamo

    prefix = get_settings().table_prefix + "-"
    calls = Calls()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        what = model.name
        tables = _tables(params, prefix)
        if tables:
            what += f" {tables}"
        if params.get("IndexName"):
            what += f" index {params['IndexName']}"
        batch = (params.get("RequestItems") or {}).values()
        if params.get("ConsistentRead") or any(isinstance(b, dict) and b.get("ConsistentRead") for b in batch):
            what += " (consistent)"
        if model.name == "TransactWriteItems":
            what += f" x{len(params.get('TransactItems', []))}"
        calls.note(what)

    from chalicelib.store import wire

    def direct(self: Any, operation: str, request: dict[str, Any]) -> Any:
        calls.note(f"{operation} {_tables(request, prefix)} (direct HTTP, no botocore)".replace("  ", " "))
        return sent(self, operation, request)

    events = dynamo.client().meta.events
    events.register("provide-client-params.dynamodb.*", record, unique_id=HANDLER_ID)
    sent = wire.Wire.call
    wire.Wire.call = direct  # type: ignore[method-assign]  # counting the calls the API sends
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.dynamodb.*", unique_id=HANDLER_ID)
        wire.Wire.call = sent  # type: ignore[method-assign]  # counting the calls the API sends


def _count(label: str, status_expected: tuple[int, ...], call: Any) -> tuple[str, int, list[str]]:
    with recording() as calls:
        response = call()
    if response.status_code not in status_expected:
        raise RuntimeError(f"{label}: {response.status_code} {response.json_body}")
    return label, response.status_code, list(calls)


def run(http: Any, checkpoint: dict[str, str]) -> list[tuple[str, int, list[str]]]:
    from tests import people

    rows = []
    identity = {"name": people.name(), "id_number": people.id_number(), "phone": people.phone()}
    rows.append(_count("POST /v1/sessions (self-asserted, test stage)", (201,),
                       lambda: http.post("/v1/sessions", headers={"Content-Type": "application/json"},
                                         body=dump({"self_asserted": identity}))))
    fresh = new_citizen(http, apply=False)
    body = dump(DECLARATION)
    rows.append(_count("POST /v1/codes (apply, first time, no Idempotency-Key)", (201,),
                       lambda: http.post("/v1/codes", headers=fresh.headers, body=body)))
    rows.append(_count("POST /v1/codes (apply again, no Idempotency-Key)", (200,),
                       lambda: http.post("/v1/codes", headers=fresh.headers, body=body)))
    keyed = new_citizen(http, apply=False)
    headers = {**keyed.headers, "Idempotency-Key": "bench-apply-1"}
    rows.append(_count("POST /v1/codes (apply, first time, Idempotency-Key)", (201,),
                       lambda: http.post("/v1/codes", headers=headers, body=body)))
    rows.append(_count("POST /v1/codes (same key replayed)", (201,),
                       lambda: http.post("/v1/codes", headers=headers, body=body)))
    rows.append(_count("GET /v1/codes/me/qr?format=text", (200,),
                       lambda: http.get("/v1/codes/me/qr?format=text", headers=keyed.headers)))
    citizen = Citizen(keyed.headers, "")
    refresh_qr(http, citizen)
    scan = json.dumps({"token": citizen.qr_token, "checkpoint_id": "bench-gate-1", "temperature": 36.6})
    rows.append(_count("POST /v1/verifications (valid token)", (200,),
                       lambda: http.post("/v1/verifications", headers=checkpoint, body=scan)))
    rows.append(_count("POST /v1/verifications (checkpoint with an entry rule)", (200,),
                       lambda: http.post("/v1/verifications", headers=ruled_checkpoint(http), body=scan)))
    return rows


def ruled_checkpoint(http: Any) -> dict[str, str]:
    """A checkpoint whose rule asks for green, a negative test within 48 h and 2 doses (issue 19): the rule rides
    in its token, so its verifications make the same one call."""
    from chalicelib.domain.colors import Color
    from chalicelib.domain.lab_results import EntryRule
    from chalicelib.security.access import Role
    from chalicelib.services import entry_rules
    from chalicelib.services.sessions import create_client

    gate = create_client(Role.CHECKPOINT, "bench gate with a rule", area="440106")
    entry_rules.set_rule(None, gate["client_id"], EntryRule((Color.GREEN,), 48, 2))
    response = http.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                         body=f"grant_type=client_credentials&client_id={gate['client_id']}"
                              f"&client_secret={gate['client_secret']}")
    return {"Authorization": f"Bearer {response.json_body['access_token']}", "Content-Type": "application/json"}
