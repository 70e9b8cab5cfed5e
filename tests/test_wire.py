"""The botocore-free DynamoDB call of the verify hot path (chalicelib/store/wire.py), and what callers see
when DynamoDB stays overloaded.

Its signature must be the one botocore would send (DynamoDB Local does not check signatures, so
botocore's signer is the reference), its answers and errors those of DynamoDB Local, and its retries
those of botocore's standard mode: faults are injected by a loopback proxy in front of DynamoDB Local.
"""
from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib import settings
from chalicelib.services import area_levels
from chalicelib.store import dynamo, wire

MOMENT = datetime(2026, 11, 28, 6, 45, 12, tzinfo=UTC)


def botocore_authorization(monkeypatch: pytest.MonkeyPatch, region: str, host: str, target: str, payload: bytes,
                           token: str | None) -> tuple[str, str]:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: MOMENT.replace(tzinfo=None))
    request = AWSRequest(method="POST", url=f"https://{host}/", data=payload,
                         headers={"Content-Type": wire.CONTENT_TYPE, "X-Amz-Target": target})
    botocore.auth.SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
                            "dynamodb", region).add_auth(request)
    return request.headers["Authorization"], request.headers.get("X-Amz-Security-Token")


@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//+=="])
@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1"])
def test_the_signature_is_the_one_botocore_computes(monkeypatch, region, token):
    host = urlsplit(wire.endpoint_url(region, None)).netloc
    payload = json.dumps({"TableName": "healthcode-prod-people", "Key": {"pk": {"S": "código ✓"}}}).encode()
    target = "DynamoDB_20120810.UpdateItem"
    ours = wire.Signer(region).headers(host, target, payload,
                                       ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), MOMENT)
    theirs, their_token = botocore_authorization(monkeypatch, region, host, target, payload, token)
    assert ours["Authorization"] == theirs
    assert ours.get("X-Amz-Security-Token") == their_token
    assert ours["X-Amz-Date"] == "20261128T064512Z"


def test_credentials_come_from_the_environment_or_else_botocore_s_chain(monkeypatch, tmp_path):
    assert wire.credentials() == ("local", "local", None)  # the test session's, from the environment
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = secretfromfile\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setattr(wire, "_chain", None)
    assert wire.credentials() == ("AKIDFROMFILE", "secretfromfile", None)


def test_regional_endpoints_include_china():
    assert wire.endpoint_url("cn-northwest-1", None) == "https://dynamodb.cn-northwest-1.amazonaws.com.cn"
    assert wire.endpoint_url("ap-east-1", None) == "https://dynamodb.ap-east-1.amazonaws.com"
    assert wire.endpoint_url("cn-north-1", "http://127.0.0.1:8001") == "http://127.0.0.1:8001"


def test_an_update_answers_as_botocore_does(dynamodb):
    key = {"pk": f"wire-{id(object())}"}
    dynamo.put("people", {**key, "version": 1, "color": "green"})
    via_wire = dynamo.update("people", key, "SET last_scan = :s", {":s": {"at": 1, "fever": False}},
                             condition="attribute_exists(pk)", hot=True)
    via_boto = dynamo.get("people", key, consistent=True)
    assert via_wire == via_boto == {**key, "version": 1, "color": "green", "last_scan": {"at": 1, "fever": False}}


def test_a_lost_condition_is_a_condition_failure(dynamodb):
    with pytest.raises(dynamo.ConditionFailed):
        dynamo.update("people", {"pk": "wire-no-such-code"}, "SET last_scan = :s", {":s": 1},
                      condition="attribute_exists(pk)", hot=True)
    assert dynamo.get("people", {"pk": "wire-no-such-code"}, consistent=True) is None


def test_a_refused_request_is_not_retried(proxy):
    with pytest.raises(wire.WireError) as refused:
        wire.call("UpdateItem", {"TableName": dynamo.table("people"), "Key": {"pk": {"S": "x"}},
                                 "UpdateExpression": "SET = nonsense"})
    assert refused.value.code == "ValidationException"
    assert proxy.forwarded == 1


@pytest.mark.parametrize("token", ["token\r\nX-Amz-Target: DynamoDB_20120810.DeleteTable", "tok\u00e9n"])
def test_a_credential_that_would_break_the_headers_is_never_sent(proxy, monkeypatch, token):
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    with pytest.raises(wire.WireError) as refused:
        wire.call("GetItem", {"TableName": dynamo.table("people"), "Key": {"pk": {"S": "x"}}})
    assert refused.value.code == "InvalidHeader"
    assert proxy.forwarded == 0


class Proxy:
    """Forwards to DynamoDB Local, after failing the first requests as `plan` says."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.plan: list[str] = []
        self.only: str | None = None      # an operation: the plan's faults hit only its requests
        self.forwarded = 0
        self.seen = 0

    def start(self) -> Proxy:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.seen += 1
                targeted = proxy.only is None or self.headers.get("X-Amz-Target", "").endswith("." + proxy.only)
                fault = proxy.plan.pop(0) if proxy.plan and targeted else None
                if fault == "reset":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "500":
                    return self.reply(500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
                                           b'"message":"injected"}')
                if fault == "html502":
                    return self.reply(502, b"<html><body>Bad Gateway</body></html>")
                if fault == "throttle":
                    return self.reply(400, b'{"__type":"com.amazonaws.dynamodb.v20120810#'
                                           b'ProvisionedThroughputExceededException","message":"injected"}')
                upstream = http.client.HTTPConnection(proxy.upstream.netloc, timeout=10)
                upstream.request("POST", "/", body=body, headers=dict(self.headers))
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                proxy.forwarded += 1
                crc = answer.getheader("x-amz-crc32")
                if fault == "crc":
                    crc = str((int(crc) + 1) % 2**32) if crc else "1"
                self.reply(answer.status, data, crc)

            def reply(self, status: int, data: bytes, crc: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", wire.CONTENT_TYPE)
                self.send_header("Content-Length", str(len(data)))
                if crc is not None:
                    self.send_header("x-amz-crc32", crc)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(dynamodb, monkeypatch) -> Iterator[Proxy]:
    running = Proxy(dynamodb.endpoint).start()
    settings.override(dynamodb_endpoint=running.url)
    monkeypatch.setattr(wire, "BACKOFF_BASE", 0.001)
    try:
        yield running
    finally:
        running.stop()


def _scan_note(code: str) -> dict[str, Any] | None:
    return dynamo.update("people", {"pk": code}, "SET last_scan = :s", {":s": {"at": 2}},
                         condition="attribute_exists(pk)", hot=True)


@pytest.mark.parametrize("faults", [["reset"], ["500"], ["throttle"], ["crc"], ["html502"], ["reset", "500"]])
def test_transient_faults_are_retried(proxy, faults):
    code = f"wire-retry-{'-'.join(faults)}"
    dynamo.put("people", {"pk": code, "version": 1})
    _scan_note(code)  # opens the kept-alive connection first, so a reset hits a reused one
    proxy.plan = list(faults)
    seen = proxy.seen
    assert _scan_note(code) == {"pk": code, "version": 1, "last_scan": {"at": 2}}
    assert proxy.seen - seen == len(faults) + 1


def test_three_failures_give_up_with_the_last_error(proxy):
    proxy.plan = ["throttle", "throttle", "throttle", "throttle"]
    with pytest.raises(wire.WireError) as failed:
        _scan_note("wire-never")
    assert failed.value.code == "ProvisionedThroughputExceededException"
    assert proxy.plan == ["throttle"]  # three attempts, not four


THROTTLED = ["throttle"] * 3  # every attempt the clients make


def test_an_overloaded_database_answers_503_and_points_checkpoints_to_offline_keys(proxy, client, citizen,
                                                                                  checkpoint):
    holder = citizen()
    assert holder.apply().status_code == 201
    scan = json.dumps({"token": holder.qr_token(), "checkpoint_id": "busy-gate-1", "temperature": 36.5})
    settings.override(area_levels_max_age=600.0)
    area_levels.current()       # a young copy of the area levels: the verify's one call is its UpdateItem
    proxy.plan = list(THROTTLED)
    busy = client.post("/v1/verifications", headers=checkpoint, body=scan)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.json_body["error"]["code"] == "overloaded"
    assert "/.well-known/jwks.json" in busy.json_body["error"]["message"]
    assert proxy.plan == []
    again = client.post("/v1/verifications", headers=checkpoint, body=scan)
    assert again.status_code == 200 and again.json_body["valid"] is True


def test_a_verify_whose_area_levels_cannot_be_read_answers_503_too(proxy, client, citizen, checkpoint):
    holder = citizen()
    assert holder.apply().status_code == 201
    scan = json.dumps({"token": holder.qr_token(), "checkpoint_id": "busy-gate-2", "temperature": 36.5})
    area_levels.forget()        # the copy must be read again, alongside the scan's UpdateItem
    proxy.only, proxy.plan = "BatchGetItem", list(THROTTLED)    # the levels' read fails through all its attempts
    busy = client.post("/v1/verifications", headers=checkpoint, body=scan)
    assert busy.status_code == 503 and busy.json_body["error"]["code"] == "overloaded"
    assert proxy.plan == []
    again = client.post("/v1/verifications", headers=checkpoint, body=scan)
    assert again.status_code == 200 and again.json_body["valid"] is True


def test_botocore_calls_that_stay_throttled_answer_503_too(proxy, client, citizen):
    holder = citizen()
    assert holder.apply().status_code == 201
    proxy.plan = list(THROTTLED)
    busy = client.get("/v1/codes/me", headers=holder.headers)
    assert busy.status_code == 503 and busy.json_body["error"]["code"] == "overloaded"
    assert client.get("/v1/codes/me", headers=holder.headers).status_code == 200
