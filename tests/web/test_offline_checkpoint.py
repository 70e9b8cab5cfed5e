"""The checkpoint page keeps working when the platform does not (issue 17), in headless Chromium.

- The API server (a `chalice local` of this module's own, so that stopping it leaves the session's alone) is
  stopped mid-session: the page verifies offline, green and yellow, from tokens issued before; a forged token
  is refused offline too; the page reloads while offline (from its service worker) and still verifies; the API
  comes back and the queued scans are uploaded once: the scans table holds each exactly once.
- Through a fault proxy in front of the session's `chalice local`, the API answers 503, then takes longer than
  the page's limit (2.5 s): the page falls back to offline verification, and uploads its queue once the API
  answers again; after a reload without a valid login, the queue waits until the gate keeper logs in again.
"""
from __future__ import annotations

import http.client
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.security import pseudonyms
from chalicelib.store import scans
from infra.local.dynamodb_local import free_port
from tests import people
from tests.web.conftest import ROOT, LiveApi, _answers
from tests.web.test_web_client import CheckpointPage, by_css, checkpoint_client, no_script_errors, shown, text, wait

pytestmark = pytest.mark.usefixtures("pump_thread")
ONLINE_TIMEOUT_S = 2.5     # chalicelib/web/checkpoint.js ONLINE_TIMEOUT_MS
PROBE_EVERY_S = 5          # checkpoint.js PROBE_EVERY_MS


class OwnApi:
    """A `chalice local` that the test stops and starts again, on the same port (the page's origin)."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.api = LiveApi(self.base, None, log_dir / "chalice-local.log")  # type: ignore[arg-type]

    def start(self) -> None:
        env = {**os.environ, "HEALTHCODE_QR_TOKEN_TTL": "180", "PYTHONUNBUFFERED": "1"}
        with open(self.log_dir / "chalice-local.log", "ab") as out:
            self.process = subprocess.Popen([str(Path(sys.executable).with_name("chalice")), "local",
                                             "--no-autoreload", "--stage", "test", "--host", "127.0.0.1",
                                             "--port", str(self.port)], cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _answers(self.base + "/"):
            assert self.process.poll() is None and time.monotonic() < deadline, "chalice local did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def own_api(dynamodb: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnApi]:
    server = OwnApi(tmp_path_factory.mktemp("own-chalice-local"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FaultProxy:
    """A small HTTP proxy between the page and `chalice local`: passes requests on, or answers the API's
    requests (everything but the page and its assets) with 503, or holds them `delay` seconds first."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.mode = "pass"          # pass, 503, slow
        self.delay = 10.0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                faulty = not (self.path.startswith("/checkpoint") or self.path.startswith("/web/"))
                if faulty and proxy.mode == "503":
                    payload = b'{"error": {"code": "overloaded", "message": "busy", "details": []}}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if faulty and proxy.mode == "slow":
                    time.sleep(proxy.delay)
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # the page aborts a request it stopped waiting for: not an error of the proxy's
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_proxy(live_api: LiveApi) -> Iterator[FaultProxy]:
    proxy = FaultProxy(live_api.base)
    try:
        yield proxy
    finally:
        proxy.close()


class Holder:
    """A citizen with a code, through the API (not a page): the QR tokens it shows."""

    def __init__(self, api: LiveApi, temperature: float = 36.5):
        self.api = api
        self.id_number = people.id_number()
        status, body = api.call("POST", "/v1/sessions", {"self_asserted": {
            "name": people.name(), "id_number": self.id_number, "phone": people.phone()}})
        assert status == 201, body
        self.token = body["access_token"]
        status, body = api.call("POST", "/v1/codes", {"temperature": temperature, "symptoms": [],
                                                      "contact_with_cases": False, "stayed_in_high_risk_area": False,
                                                      "current_area": "510104"}, token=self.token)
        assert status == 201, body
        self.color = body["color"]
        self.code_id = pseudonyms.code_id(pseudonyms.person_ref(self.id_number))

    def qr_token(self) -> str:
        return self.qr_token_via(self.api)

    def qr_token_via(self, api: LiveApi) -> str:
        status, body = api.call("GET", "/v1/codes/me/qr?format=text", token=self.token)
        assert status == 200, body
        return body["token"]


def forged(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    return ".".join((header, payload, signature[:middle] + ("A" if signature[middle] != "A" else "B")
                     + signature[middle + 1:]))


def result_of(gate: CheckpointPage) -> dict[str, str]:
    driver = gate.driver
    return {"mode": by_css(driver, "#result").get_attribute("data-mode"),
            "banner": text(driver, "#result-offline") if shown(driver, "#result-offline") else "",
            "label": by_css(driver, "#result").get_attribute("aria-label") or "",
            "meta": text(driver, "#result-meta")}


def controlled_and_keyed(driver: Any) -> bool:
    return bool(driver.execute_script(
        "return !!navigator.serviceWorker.controller && !!localStorage.getItem('hc.keys')"))


def queue_count(driver: Any) -> int:
    return int(by_css(driver, "#queue-count").text or "0")


def offline_rows(code_id: str) -> list[scans.Row]:
    return [r for r in scans.since(code_id, 0, clock.now()) if r.scan.offline]


def test_the_page_verifies_offline_when_the_api_is_stopped_and_uploads_once_it_is_back(gate_phone, own_api,
                                                                                       screenshot):
    api = own_api.api
    green, yellow = Holder(api), Holder(api, temperature=38.0)
    assert (green.color, yellow.color) == ("green", "yellow")
    green_token, yellow_token, later_token = green.qr_token(), yellow.qr_token(), green.qr_token()

    gate = CheckpointPage(gate_phone, api).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"], gate="gate-off-1")
    # 1. online
    online = gate.verify(green.qr_token(), temperature="36.6")
    assert online["valid"] == "true" and online["color"] == "green", online
    assert result_of(gate)["mode"] == "online" and not result_of(gate)["banner"]
    gate.next()
    # the service worker controls the page and the keys are cached, as after any online use
    wait(gate_phone, controlled_and_keyed, timeout=15, message="the service worker and the cached keys")

    # 2. the API server stops: offline, green and yellow, from tokens issued before
    own_api.stop()
    offline = gate.verify(green_token, temperature="36.5")
    assert offline["valid"] == "true" and offline["color"] == "green", offline
    shown_result = result_of(gate)
    assert shown_result["mode"] == "offline", shown_result
    assert "离线核验" in shown_result["banner"] and "color as of" in shown_result["banner"], shown_result
    assert "离线" in shown_result["label"] and "Offline" in shown_result["label"], shown_result
    assert "王" not in offline["who"] and "离线" in offline["who"]   # no name offline: the token has none
    screenshot(gate_phone, "checkpoint-offline")
    gate.next()
    offline = gate.verify(yellow_token, temperature="37.8")
    assert offline["valid"] == "true" and offline["color"] == "yellow", offline
    assert result_of(gate)["mode"] == "offline" and offline["fever"], offline
    gate.next()
    # 3. a forged token is refused offline too, and not queued
    refused = gate.verify(forged(green_token))
    assert refused["valid"] == "false" and refused["reason"] == "bad_signature", refused
    assert result_of(gate)["mode"] == "offline"
    gate.next()
    wait(gate_phone, lambda d: queue_count(d) == 2, message="two scans waiting")
    assert by_css(gate_phone, "#net-status").get_attribute("data-state") == "offline"

    # 4. reload while offline: the page loads from the service worker, keeps its queue, and still verifies
    gate_phone.refresh()
    wait(gate_phone, lambda d: shown(d, "#verify-form"), timeout=15, message="the page, offline")
    wait(gate_phone, lambda d: queue_count(d) == 2, message="the queue kept across the reload")
    offline = gate.verify(later_token)
    assert offline["valid"] == "true" and offline["color"] == "green" and result_of(gate)["mode"] == "offline"
    gate.next()
    wait(gate_phone, lambda d: queue_count(d) == 3, message="three scans waiting")
    assert offline_rows(green.code_id) == [] and offline_rows(yellow.code_id) == []

    # 5. the API comes back: the queue is uploaded, once
    own_api.start()
    wait(gate_phone, lambda d: queue_count(d) == 0, timeout=PROBE_EVERY_S * 4, message="the queue uploaded")
    green_rows, yellow_rows = offline_rows(green.code_id), offline_rows(yellow.code_id)
    assert len(green_rows) == 2 and len(yellow_rows) == 1, (green_rows, yellow_rows)
    assert {r.offline.shown_color for r in green_rows if r.offline} == {"green"}
    assert yellow_rows[0].scan.temperature == 37.8 and yellow_rows[0].scan.fever
    assert {r.scan.checkpoint_id for r in green_rows + yellow_rows} == {"gate-off-1"}
    # and online again: the live answer, with the name
    again = gate.verify(green.qr_token())
    assert again["valid"] == "true" and result_of(gate)["mode"] == "online" and "*" in again["who"], again
    gate.next()
    assert len(offline_rows(green.code_id)) == 2
    no_script_errors(gate_phone)


def test_a_503_or_a_slow_api_falls_back_to_offline_verification(gate_phone, live_api, fault_proxy):
    holder = Holder(live_api)
    proxied = LiveApi(fault_proxy.base, live_api.process, live_api.log_path)
    gate = CheckpointPage(gate_phone, proxied).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"], gate="gate-503")
    assert gate.verify(holder.qr_token())["color"] == "green" and result_of(gate)["mode"] == "online"
    gate.next()
    wait(gate_phone, controlled_and_keyed, timeout=15, message="the service worker and the cached keys")

    fault_proxy.mode = "503"
    answered = gate.verify(holder.qr_token())
    assert answered["color"] == "green" and result_of(gate)["mode"] == "offline", answered
    gate.next()
    wait(gate_phone, lambda d: queue_count(d) == 1, message="the scan queued")

    # the API answers again: the page notices (it probes), leaves offline mode and uploads the scan
    fault_proxy.mode = "pass"
    wait(gate_phone, lambda d: queue_count(d) == 0, timeout=PROBE_EVERY_S * 4, message="the queue uploaded")
    wait(gate_phone, lambda d: by_css(d, "#net-status").get_attribute("data-state") == "online")
    assert len(offline_rows(holder.code_id)) == 1

    # slower than the page's limit: it does not wait for the answer (the proxy holds each request 10 s)
    fault_proxy.mode, fault_proxy.delay = "slow", 10.0
    started = time.monotonic()
    answered = gate.verify(holder.qr_token_via(live_api))
    waited = time.monotonic() - started
    assert answered["color"] == "green" and result_of(gate)["mode"] == "offline", answered
    assert ONLINE_TIMEOUT_S <= waited < fault_proxy.delay, waited
    gate.next()

    fault_proxy.mode = "pass"
    wait(gate_phone, lambda d: queue_count(d) == 0, timeout=fault_proxy.delay + PROBE_EVERY_S * 4,
         message="the queue uploaded")
    assert len(offline_rows(holder.code_id)) == 2
    no_script_errors(gate_phone)


def test_after_a_reload_without_a_valid_login_the_queue_waits_for_the_gate_keeper_to_log_in(gate_phone, live_api,
                                                                                           fault_proxy):
    holder = Holder(live_api)
    proxied = LiveApi(fault_proxy.base, live_api.process, live_api.log_path)
    gate = CheckpointPage(gate_phone, proxied).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"], gate="gate-relogin")
    assert gate.verify(holder.qr_token())["color"] == "green"
    gate.next()
    wait(gate_phone, controlled_and_keyed, timeout=15, message="the service worker and the cached keys")
    fault_proxy.mode = "503"
    assert gate.verify(holder.qr_token())["color"] == "green" and result_of(gate)["mode"] == "offline"
    gate.next()

    # the page reloads once its access token has expired: the secret (memory only) is gone with the reload
    gate_phone.execute_script("const s = JSON.parse(sessionStorage.getItem('hc.checkpoint'));"
                              "s.expires_at = 0; sessionStorage.setItem('hc.checkpoint', JSON.stringify(s));")
    gate_phone.refresh()
    wait(gate_phone, lambda d: shown(d, "#verify-form"), timeout=15, message="the scan screen, offline")
    assert gate.verify(holder.qr_token())["color"] == "green" and result_of(gate)["mode"] == "offline"
    gate.next()
    wait(gate_phone, lambda d: queue_count(d) == 2 and shown(d, "#queue-login"), message="log in to upload")

    # the API answers again, but without a login nothing is uploaded and nothing leaves the queue
    fault_proxy.mode = "pass"
    wait(gate_phone, lambda d: by_css(d, "#net-status").get_attribute("data-state") == "online",
         timeout=PROBE_EVERY_S * 4, message="the page back online")
    time.sleep(1)   # what an upload would have taken: none is sent
    assert queue_count(gate_phone) == 2 and offline_rows(holder.code_id) == []
    by_css(gate_phone, "#queue-login").click()
    gate.log_in(credentials["client_id"], credentials["client_secret"], gate="gate-relogin")
    wait(gate_phone, lambda d: queue_count(d) == 0, timeout=PROBE_EVERY_S * 4, message="the queue uploaded")
    assert len(offline_rows(holder.code_id)) == 2
    no_script_errors(gate_phone)
