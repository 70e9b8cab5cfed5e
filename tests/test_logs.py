"""Structured logs: JSON lines with a request id on every line, and never an ID number, name or phone."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock, logs
from chalicelib.security.access import Role
from tests import people
from tests.conftest import auth, client_token, dump

ROOT = Path(__file__).resolve().parents[1]


def everything_in(record: logging.LogRecord) -> str:
    """All a handler could write for this record: message, arguments, extra fields, exception."""
    parts = [record.getMessage(), repr(record.args), repr({k: v for k, v in vars(record).items()
                                                          if k not in ("msg", "args", "exc_info")})]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.append(logs.JsonFormatter().format(record))
    return "\n".join(parts)


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # root: botocore, urllib3 and Chalice log through it
    for name in ("healthcode", "botocore", "boto3", "urllib3", "chalice"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_a_full_scenario_logs_no_id_number_name_or_phone(client: Any, checkpoint: dict[str, str], pump: Any,
                                                         every_log_line: pytest.LogCaptureFixture) -> None:
    id_number, name, phone = people.in_province("51"), "欧阳春燕", people.phone()
    requests: list[tuple[Any, int, int]] = []

    def call(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        start = len(every_log_line.records)
        response = client.request(method, path, headers=headers, body=dump(body) if body is not None else b"")
        requests.append((response, start, len(every_log_line.records)))
        return response

    json_headers = {"Content-Type": "application/json"}
    login = call("POST", "/v1/sessions", json_headers,
                 {"self_asserted": {"name": name, "id_number": id_number, "phone": phone}})
    assert login.status_code == 201, login.json_body
    citizen = auth(login.json_body["access_token"])
    # refusals that carry the values back to us: a bad phone next to a good ID number, a wrong check digit
    assert call("POST", "/v1/sessions", json_headers, {"self_asserted": {
        "name": name, "id_number": id_number, "phone": phone + "9"}}).status_code == 422
    assert call("POST", "/v1/sessions", json_headers, {"self_asserted": {
        "name": name, "id_number": people.with_wrong_check_digit(id_number), "phone": phone}}).status_code == 422
    applied = call("POST", "/v1/codes", {**citizen, "Idempotency-Key": "log-test"},
                   {"temperature": 37.6, "symptoms": ["cough"], "contact_with_cases": False,
                    "stayed_in_high_risk_area": False, "current_area": id_number[:6]})
    assert applied.status_code == 201, applied.json_body
    qr = call("GET", "/v1/codes/me/qr?format=text", citizen)
    assert qr.status_code == 200
    scan = call("POST", "/v1/verifications", checkpoint,
                {"token": qr.json_body["token"], "checkpoint_id": "gate-3", "temperature": 37.8})
    assert scan.json_body["valid"] is True
    today = dt.datetime.fromtimestamp(clock.now(), dt.timezone(dt.timedelta(hours=8))).date()
    trip = call("POST", "/v1/trips", citizen, {"date": (today - dt.timedelta(days=1)).isoformat(),
                                               "from": id_number[:6], "to": "440106", "mode": "flight",
                                               "number": "CA1234", "seat": "32A"})
    assert trip.status_code == 201, trip.json_body
    guangdong = auth(client_token(client, Role.PROVINCE, province="44"))
    lookup = call("POST", "/v1/sync/lookups", guangdong,
                  {"id_numbers": [id_number], "purpose": "Arrival screening at Guangzhou South"})
    assert lookup.status_code == 200, lookup.json_body
    sichuan_authority = auth(client_token(client, Role.HEALTH_AUTHORITY, province="51"))
    status = call("POST", "/v1/health-statuses", sichuan_authority,
                  {"id_number": id_number, "status": "close_contact", "note": "traced"})
    assert status.status_code == 201, status.json_body
    pump.drain()  # the stream handlers log too
    assert call("GET", "/v1/me/risk", citizen).status_code == 200

    records: list[Any] = every_log_line.records  # with the request_id and status our filters add
    assert any(r.name.startswith("botocore") for r in records)  # botocore's DEBUG lines were captured
    assert any(r.name == "healthcode.requests" for r in records)
    for record in records:
        text = everything_in(record)
        for secret in (id_number, name, phone):
            assert secret not in text, f"{record.name} logged personal data: {text[:300]}"

    # every line logged while a request was handled (ours, botocore's) carries that request's id, the one answered
    for response, start, end in requests:
        request_id = response.headers["X-Request-Id"]
        during = records[start:end]
        assert during and all(r.request_id == request_id for r in during), \
            (response.status_code, request_id, {(r.name, r.request_id) for r in during})
        access = [r for r in during if r.name == "healthcode.requests"]
        assert len(access) == 1 and access[0].status == response.status_code
    # and lines outside any request (the stream handlers run by the pump) carry the invocation's id
    handled = [r for r in records if r.name == "healthcode.events"]
    assert handled and all(r.request_id for r in handled)


def test_a_line_is_one_json_object() -> None:
    logger = logging.getLogger("healthcode.test")
    record = logger.makeRecord("healthcode.test", logging.WARNING, __file__, 1, "webhook %s failed", ("wh_1",),
                               None, extra={"attempt": 3})
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "webhook wh_1 failed" and line["attempt"] == 3 and line["level"] == "WARNING"
    assert line["service"] == "healthcode" and line["logger"] == "healthcode.test" and "request_id" in line
    assert line["timestamp"].endswith("+00:00")


def test_what_looks_like_an_id_number_or_a_phone_is_masked_anyway() -> None:
    id_number, phone = people.id_number(), people.phone()
    logger = logging.getLogger("healthcode.test")
    try:
        raise ValueError(f"input_value='{id_number}'")
    except ValueError:
        import sys as system

        record = logger.makeRecord("healthcode.test", logging.ERROR, __file__, 1, "call %s about %s",
                                   (phone, id_number), system.exc_info())
    line = logs.JsonFormatter().format(record)
    assert id_number not in line and phone not in line and "[id_number]" in line and "[phone]" in line
    assert "1700000000000" in logs.mask("at 1700000000000 ms")  # a 13-digit epoch is not a phone


def test_a_process_without_logging_set_up_writes_json_lines() -> None:
    """What `chalice local` (and `make run`) writes: one JSON object per line on stderr."""
    program = ("import logging, app; from chalicelib import logs\n"
               "logging.getLogger('healthcode.events').warning('event handled', extra={'event_id': 'e1'})\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1]["message"] == "event handled" and lines[-1]["event_id"] == "e1"
    assert lines[-1]["request_id"] is None  # outside any request
