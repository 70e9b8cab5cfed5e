"""The web client's end-to-end set-up: a live local stack like `make run`'s, and Debian's Chromium.

- `live_api`: `chalice local` on a free port, in its own process, against the session's DynamoDB
  Local (tests/conftest.py starts it and sets the environment); the pages are served by the
  app itself, so the browser talks to exactly what a phone would.
- `pump_thread`: the pump (infra/local/pump.py) polling the events stream in a thread while these
  tests run, as `make run` does, so a published exposure reaches the citizen's code on its own.
- `phone`, `gate_phone`: headless Chromium, 360 CSS pixels wide, driven by Selenium through Debian's
  chromedriver (never a downloaded browser). `make browser` installs them (as root); with CI=true a missing browser
  fails these tests, elsewhere it skips them with the command to run.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("HEALTHCODE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HEALTHCODE_CHROMEDRIVER", "/usr/bin/chromedriver")
# short-lived QR tokens, so a test sees the page refresh one on its own within seconds
QR_TOKEN_TTL = 8
# the flags this machine's Chromium needs (no sandbox as root, no GPU, no calls home on a closed network)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--disable-extensions", "--no-default-browser-check", "--lang=zh-CN",
                  "--hide-scrollbars")
PHONE = {"width": 360, "height": 760, "pixelRatio": 2.0}
log = logging.getLogger("healthcode.tests.web")


def _missing_browser() -> list[str]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (requirements-dev.txt)")
    return missing


@pytest.fixture(scope="session")
def chromium() -> str:
    missing = _missing_browser()
    if missing:
        message = (f"the web client's browser tests need Debian's Chromium: missing {', '.join(missing)}. "
                   "Install with `make browser` as root (apt-get install chromium chromium-driver fonts-wqy-microhei).")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@dataclass
class LiveApi:
    base: str
    process: subprocess.Popen
    log_path: Path

    def url(self, path: str) -> str:
        return self.base + path

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode()
        if form is not None:
            from urllib.parse import urlencode

            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urlencode(form).encode()
        request = urllib.request.Request(self.url(path), data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def client_token(self, client_id: str, secret: str) -> str:
        status, body = self.call("POST", "/v1/oauth/token", form={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        assert status == 200, body
        return body["access_token"]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


@pytest.fixture(scope="session")
def live_api(dynamodb: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """`chalice local` on a free port, like `make run` (infra/local/run.py), on the session's tables."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("chalice-local") / "chalice-local.log"
    env = {**os.environ, "HEALTHCODE_QR_TOKEN_TTL": str(QR_TOKEN_TTL), "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as out:
        process = subprocess.Popen([str(Path(sys.executable).with_name("chalice")), "local", "--no-autoreload",
                                    "--stage", "test", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    api = LiveApi(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 60
        while not _answers(api.url("/")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chalice local did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield api
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="package")
def pump_thread(pump: Any) -> Iterator[Any]:
    """The events stream handled as it fills, while these tests run; stopped (and drained) after them, so
    no other test shares the pump with a thread."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                found = pump.poll_once()
            except Exception:  # pragma: no cover - logged like make run's pump
                log.exception("pump pass failed")
                found = 0
            if not found:
                stop.wait(0.2)

    thread = threading.Thread(target=run, name="pump", daemon=True)
    thread.start()
    yield pump
    stop.set()
    thread.join(timeout=10)
    pump.drain()


@pytest.fixture(scope="package")
def _devices(chromium: str, live_api: LiveApi) -> Iterator[Callable[[str], Any]]:
    """Headless Chromium sessions the size of a 360px-wide phone, opened once each (starting one costs
    a second or two) and handed to test after test with their storage cleared."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened: dict[str, tuple[Any, str]] = {}

    def device(name: str) -> Any:
        if name not in opened:
            profile = tempfile.mkdtemp(prefix="healthcode-chromium-")
            options = webdriver.ChromeOptions()
            options.binary_location = chromium
            for flag in CHROMIUM_FLAGS:
                options.add_argument(flag)
            options.add_argument(f"--user-data-dir={profile}")
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
            options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
            driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
            driver.set_page_load_timeout(20)
            opened[name] = (driver, profile)
        driver = opened[name][0]
        driver.get(live_api.url("/"))
        driver.execute_script("sessionStorage.clear(); localStorage.clear();")
        driver.get_log("browser")  # start each test with an empty console
        return driver

    yield device
    for driver, profile in opened.values():
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def phone(_devices: Callable[[str], Any]) -> Any:
    """The citizen's phone."""
    return _devices("citizen")


@pytest.fixture
def gate_phone(_devices: Callable[[str], Any]) -> Any:
    """The checkpoint's handset."""
    return _devices("checkpoint")


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], Path]:
    """Save what the browser shows as NAME.png: in a temporary folder on every run, and in
    docs/screenshots/ (shown in the README) with `make screenshots`, so a test run leaves the tree clean."""
    folder = SCREENSHOTS if os.environ.get("HEALTHCODE_UPDATE_SCREENSHOTS") else tmp_path_factory.mktemp("screens")
    folder.mkdir(parents=True, exist_ok=True)

    def save(driver: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        path.write_bytes(driver.get_screenshot_as_png())
        return path
    return save
