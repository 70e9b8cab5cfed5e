"""The web client end to end: Debian's Chromium, headless and 360 pixels wide, against a live local stack.

A citizen applies and sees a green QR; a checkpoint scans that very QR (decoded from the pixels the page
shows) and sees green; the page refreshes the QR before its token expires; after a health authority
publishes a case on a flight the citizen declared, the code turns yellow on its own (the pump runs the
stream handler) and the risk prompt names the reason. Errors read as words. Screenshots of the main
screens go to docs/screenshots/ for the README.
"""
from __future__ import annotations

import base64
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.security import pseudonyms, qr_tokens
from chalicelib.security.access import Role
from chalicelib.services.sessions import create_client
from tests import people
from tests.web.conftest import PHONE, QR_TOKEN_TTL, LiveApi

pytestmark = pytest.mark.usefixtures("pump_thread")

# the QR as the page draws it, in grey levels, for zxing-cpp to read as a scanner would
QR_PIXELS = """
const img = document.getElementById('qr'), n = 480;
const canvas = document.createElement('canvas'); canvas.width = canvas.height = n;
const g = canvas.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, n, n); g.drawImage(img, 0, 0, n, n);
const px = g.getImageData(0, 0, n, n).data; let grey = '';
for (let i = 0; i < px.length; i += 4)
  grey += String.fromCharCode((px[i] * 299 + px[i + 1] * 587 + px[i + 2] * 114) / 1000 | 0);
return [n, btoa(grey)];
"""


@pytest.fixture(autouse=True)
def _clear_of_midnight() -> None:
    """Trips and exposures are dated in CST days: never straddle midnight (wait it out instead)."""
    to_midnight = days.start_of(days.today(clock.now()) + dt.timedelta(days=1)) - clock.now()
    if to_midnight < 60:
        time.sleep(to_midnight + 1)


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def shown(driver: Any, selector: str) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return bool(found) and found[0].is_displayed()


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 10, message: str = "") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message)


def fill(driver: Any, form: str, **fields: str) -> None:
    for name, value in fields.items():
        field = by_css(driver, f"{form} [name={name}]")
        if field.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(field).select_by_value(value)
            continue
        field.clear()
        field.send_keys(value)


def text(driver: Any, selector: str) -> str:
    return by_css(driver, selector).text


def fits_the_phone(driver: Any) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]


def no_script_errors(driver: Any) -> None:
    """Nothing thrown in the page (the browser also logs each 4xx answer: those are expected here)."""
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]
    assert not errors, errors


class CitizenPage:
    def __init__(self, driver: Any, api: LiveApi):
        self.driver, self.api = driver, api

    def open(self, screen: str = "") -> CitizenPage:
        self.driver.get(self.api.url("/citizen") + (f"#{screen}" if screen else ""))
        return self

    def log_in(self, name: str, id_number: str | None = None) -> None:
        wait(self.driver, lambda d: shown(d, "#login-form"))
        fill(self.driver, "#login-form", name=name, id_number=id_number or people.id_number(), phone=people.phone())
        by_css(self.driver, "#login-form button[type=submit]").click()

    def apply(self, temperature: str = "36.5", area: str = "510104") -> None:
        wait(self.driver, lambda d: shown(d, "#apply-form"), message="the declaration form")
        fill(self.driver, "#apply-form", temperature=temperature, current_area=area)
        by_css(self.driver, "#apply-form button[type=submit]").click()

    def go(self, screen: str) -> None:
        self.driver.execute_script("location.hash = arguments[0]", screen)
        wait(self.driver, lambda d: shown(d, f"#screen-{screen}"))

    def color(self) -> str:
        return by_css(self.driver, "#code-card").get_attribute("data-color")

    def qr_ready(self) -> bool:
        return bool(self.driver.execute_script(
            "const i = document.getElementById('qr'); return i.complete && i.naturalWidth > 0 && "
            "!document.getElementById('screen-code').hidden"))

    def qr_expires_at(self) -> int:
        return int(by_css(self.driver, "#qr").get_attribute("data-expires-at") or 0)

    def qr_token(self) -> str:
        """Read the QR the page shows, from its pixels."""
        import zxingcpp

        found: list[str] = []
        for _ in range(3):  # the page may swap in a fresh QR just as it is read: read again
            wait(self.driver, lambda d: self.qr_ready(), message="the QR image")
            size, grey = self.driver.execute_script(QR_PIXELS)
            image = memoryview(base64.b64decode(grey)).cast("B", shape=[size, size])
            found = [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
            if len(found) == 1:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"the page's QR did not decode: {found}")

    def wait_for_color(self, color: str, timeout: float = 20) -> None:
        """Wait for the code to show a color, pressing Refresh now and then (it also refreshes on its own)."""
        pressed = [time.monotonic()]

        def turned(driver: Any) -> bool:
            if self.color() == color and self.qr_ready():
                return True
            if time.monotonic() - pressed[0] > 1.5:
                pressed[0] = time.monotonic()
                by_css(driver, "#qr-refresh").click()
            return False
        wait(self.driver, turned, timeout, f"the code to turn {color}")


class CheckpointPage:
    def __init__(self, driver: Any, api: LiveApi):
        self.driver, self.api = driver, api

    def open(self) -> CheckpointPage:
        self.driver.get(self.api.url("/checkpoint"))
        return self

    def log_in(self, client_id: str, secret: str, gate: str = "gate-3") -> None:
        wait(self.driver, lambda d: shown(d, "#login-form"))
        fill(self.driver, "#login-form", client_id=client_id, client_secret=secret, checkpoint_id=gate)
        by_css(self.driver, "#login-form button[type=submit]").click()

    def verify(self, token: str, temperature: str = "") -> dict[str, str]:
        wait(self.driver, lambda d: shown(d, "#verify-form"), message="the scan screen")
        fill(self.driver, "#verify-form", temperature=temperature)
        # as a handheld scanner does: the token, then Enter
        field = by_css(self.driver, "#verify-form [name=token]")
        field.clear()
        self.driver.execute_script("arguments[0].value = arguments[1]", field, token)
        by_css(self.driver, "#verify-form button[type=submit]").click()
        wait(self.driver, lambda d: shown(d, "#result"), message="the result")
        result = by_css(self.driver, "#result")
        return {"color": result.get_attribute("data-color"), "valid": result.get_attribute("data-valid"),
                "reason": result.get_attribute("data-reason") or "", "title": text(self.driver, "#result-title"),
                "who": text(self.driver, "#result-who"), "fever": text(self.driver, "#result-fever")}

    def next(self) -> None:
        by_css(self.driver, "#next").click()
        wait(self.driver, lambda d: not shown(d, "#result"))


def checkpoint_client(area: str = "510104") -> dict[str, Any]:
    """What `python -m ops clients create --role checkpoint` prints (the secret, once)."""
    return create_client(Role.CHECKPOINT, "Chengdu Jinjiang gate 3 (e2e)", area=area)


def health_authority(api: LiveApi, province: str = "51") -> str:
    created = create_client(Role.HEALTH_AUTHORITY, f"Health commission {province} (e2e)", province=province)
    return api.client_token(created["client_id"], created["client_secret"])


def test_a_citizen_applies_and_a_checkpoint_verifies_the_green_qr(phone, gate_phone, live_api, screenshot):
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in("王小明")
    citizen.apply(temperature="36.5", area="510104")
    wait(phone, lambda d: citizen.color() == "green" and citizen.qr_ready(), message="a green code")
    assert text(phone, "#code-name") == "王*明"
    assert "绿码" in text(phone, "#color-word")
    wait(phone, lambda d: "绿码" in text(d, "#risk-headline"), message="the risk summary")
    assert fits_the_phone(phone)
    token = citizen.qr_token()
    issued_expiry = citizen.qr_expires_at()
    screenshot(phone, "citizen-code")

    gate = CheckpointPage(gate_phone, live_api).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"])
    result = gate.verify(token, temperature="36.6")
    assert result["valid"] == "true" and result["color"] == "green", result
    assert "绿码" in result["title"] and "王*明" in result["who"], result
    assert fits_the_phone(gate_phone)
    screenshot(gate_phone, "checkpoint-green")
    gate.next()

    # the page fetches a new QR before the old token expires, on its own
    wait(phone, lambda d: citizen.qr_expires_at() > issued_expiry, timeout=QR_TOKEN_TTL + 5,
         message="an automatic QR refresh")
    assert int(by_css(phone, "#countdown").get_attribute("data-left")) > 0
    assert citizen.qr_token() != token

    # where the code was scanned, and what is kept about the citizen, with when it goes
    citizen.go("scans")
    wait(phone, lambda d: "gate" in text(d, "#scan-list") and shown(d, "#scan-list .chip[data-color=green]"),
         timeout=20, message="the checkpoint's scan in the citizen's list of scans")
    citizen.go("mydata")
    wait(phone, lambda d: shown(d, "#data-list li[data-kind=scans]"), message="the summary of kept data")
    assert "删除于" in text(phone, "#data-list li[data-kind=scans]")
    assert fits_the_phone(phone)
    for driver in (phone, gate_phone):
        no_script_errors(driver)


def test_the_code_turns_yellow_after_an_exposure_on_a_declared_flight(phone, gate_phone, live_api, screenshot):
    flight = f"MU{random.randrange(1000, 10000)}"
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in(people.name())
    citizen.apply(area="510104")
    wait(phone, lambda d: citizen.color() == "green" and citizen.qr_ready(), message="a green code")

    # the trip, declared on the trips page: Chengdu to Shanghai today, seat 32A
    by_css(phone, ".tiles a[href='#trips']").click()
    wait(phone, lambda d: shown(d, "#trip-form"))
    fill(phone, "#trip-form", **{"from": "510104", "to": "310101", "mode": "flight"})
    fill(phone, "#trip-form", number=flight.lower(), seat="32a")
    by_css(phone, "#trip-form button[type=submit]").click()
    wait(phone, lambda d: shown(d, "#trip-form .ok") and flight in text(d, "#trip-list"), message="the trip listed")
    assert fits_the_phone(phone)

    # a health authority publishes a confirmed case on that flight (POST /v1/exposures)
    today = days.today(clock.now()).isoformat()
    status, published = live_api.call("POST", "/v1/exposures", token=health_authority(live_api), body={
        "mode": "flight", "number": flight, "date": today, "case_type": "confirmed"})
    assert status == 201, published

    # the pump hands the event to the stream handler; the page shows yellow and says why
    by_css(phone, "#back").click()
    citizen.wait_for_color("yellow")
    assert "黄码" in text(phone, "#color-word")
    wait(phone, lambda d: "黄码" in text(d, "#risk-headline"), message="the yellow risk summary")
    screenshot(phone, "citizen-code-yellow")
    token = citizen.qr_token()

    by_css(phone, "#risk-summary").click()
    wait(phone, lambda d: shown(d, "#risk-reasons li[data-code=co_passenger]"), message="the co-passenger reason")
    reason = text(phone, "#risk-reasons li[data-code=co_passenger]")
    assert flight in reason and "确诊" in reason, reason
    assert by_css(phone, "#risk-head").get_attribute("data-color") == "yellow"
    assert fits_the_phone(phone)
    screenshot(phone, "citizen-risk")

    # anyone's co-passenger query finds the flight too
    citizen.go("copassenger")
    fill(phone, "#copassenger-form", number=flight)
    by_css(phone, "#copassenger-form button[type=submit]").click()
    wait(phone, lambda d: by_css(d, "#copassenger-result").get_attribute("data-affected") == "true")
    assert "确诊" in text(phone, "#copassenger-result")

    # and a checkpoint sees the yellow code
    gate = CheckpointPage(gate_phone, live_api).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"])
    result = gate.verify(token, temperature="37.8")
    assert result["valid"] == "true" and result["color"] == "yellow", result
    assert "黄码" in result["title"] and "37.8" in result["fever"], result
    screenshot(gate_phone, "checkpoint-yellow")
    for driver in (phone, gate_phone):
        no_script_errors(driver)


def test_check_ins_cities_local_codes_and_a_correction_followed_to_its_decision(phone, live_api, screenshot):
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in(people.name())
    # a declared fever: yellow, with a reason the citizen can ask to correct
    citizen.apply(temperature="37.9", area="510104")
    wait(phone, lambda d: citizen.color() == "yellow" and citizen.qr_ready(), message="a yellow code")

    citizen.go("checkin")
    wait(phone, lambda d: by_css(d, "#checkin-form [name=area]").get_attribute("value") == "510104")
    fill(phone, "#checkin-form", temperature="36.4")
    by_css(phone, "#checkin-form button[type=submit]").click()
    wait(phone, lambda d: shown(d, "#checkin-form .ok"), message="the check-in")
    assert "锦江" in text(phone, "#checkin-form .ok")     # 510104 is Chengdu's Jinjiang district

    citizen.go("cities")
    wait(phone, lambda d: "锦江" in text(d, "#city-list"), message="the city visited")
    assert "低风险" in text(phone, "#city-list")

    citizen.go("localcodes")
    wait(phone, lambda d: text(d, "#localcode-list") != "", message="the local codes")

    # corrections: filed from the page, decided by the province's health authority, followed on the page
    citizen.go("risk")
    wait(phone, lambda d: shown(d, "#risk-reasons li[data-code=declared_fever] a.link"),
         message="a correction link on the fever reason (is /v1/corrections deployed?)")
    by_css(phone, "#risk-reasons li[data-code=declared_fever] a.link").click()
    wait(phone, lambda d: shown(d, "#correction-form"))
    # the options arrive after the form shows: the fever reason, about the area declared, is the one chosen
    wait(phone, lambda d: by_css(d, "#correction-form [name=reason]").get_attribute("value")
         == "declaration|declared_fever|510104", message="the fever reason preselected")
    fill(phone, "#correction-form", description="我申报时误把37.9写成了体温，实际体温正常。")
    by_css(phone, "#correction-form button[type=submit]").click()
    wait(phone, lambda d: shown(d, "#correction-form .ok") and "处理中" in text(d, "#correction-list"),
         message="the pending correction")
    assert fits_the_phone(phone)
    screenshot(phone, "citizen-correction")

    reviewer = health_authority(live_api, "51")
    status, queue = live_api.call("GET", "/v1/corrections?status=pending&limit=100", token=reviewer)
    assert status == 200, queue
    [mine] = [c for c in queue["corrections"] if c["reason_code"] == "declared_fever" and "37.9" in c["description"]]
    status, decided = live_api.call("POST", f"/v1/corrections/{mine['id']}/decision", token=reviewer,
                                    body={"decision": "approve", "reason": "核实体温正常 Temperature checked: normal"})
    assert status == 200, decided
    by_css(phone, "#corrections-refresh").click()
    wait(phone, lambda d: "已通过" in text(d, "#correction-list") and "核实体温正常" in text(d, "#correction-list"),
         message="the approved correction")
    by_css(phone, "#back").click()
    citizen.wait_for_color("green")

    # the reviewer read her history to decide: she sees who did, and why, in her access log
    status, _ = live_api.call("GET", f"/v1/corrections/{mine['id']}/history", token=reviewer)
    assert status == 200
    citizen.go("access")
    wait(phone, lambda d: "四川" in text(d, "#access-list") and mine["id"] in text(d, "#access-list"),
         message="the reviewer's access in the access log")
    no_script_errors(phone)


def test_errors_read_as_words(phone, gate_phone, live_api, screenshot):
    citizen = CitizenPage(phone, live_api).open()
    # a wrong check digit
    citizen.log_in("王小明", people.with_wrong_check_digit(people.id_number()))
    wait(phone, lambda d: shown(d, "#screen-login .error"), message="the login error")
    error = text(phone, "#screen-login .error")
    assert "填写的信息有误" in error and "身份证号" in error, error

    id_number = people.id_number()
    citizen.log_in("李芳", id_number)
    citizen.apply(area="999999")
    wait(phone, lambda d: shown(d, "#apply-form .error"), message="the declaration error")
    error = text(phone, "#apply-form .error")
    assert "当前所在地" in error and "行政区划代码" in error, error
    assert fits_the_phone(phone)

    gate = CheckpointPage(gate_phone, live_api).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], "hcs_not-the-secret")
    wait(gate_phone, lambda d: shown(d, "#login-form .error"), message="the login error")
    assert "密钥不正确" in text(gate_phone, "#login-form .error")
    gate.log_in(credentials["client_id"], credentials["client_secret"])
    refused = gate.verify("not-a-health-code")
    assert refused["valid"] == "false" and refused["reason"] == "malformed", refused
    assert "无法识别" in refused["title"], refused
    gate.next()

    # a QR shown minutes after it was fetched (a screenshot, say) is refused as expired, in words
    citizen.apply(area="510104")
    wait(phone, lambda d: citizen.qr_ready(), message="the code")
    stale, _ = qr_tokens.issue(pseudonyms.code_id(pseudonyms.person_ref(id_number)), clock.now() - 120, QR_TOKEN_TTL)
    refused = gate.verify(stale)
    assert refused["valid"] == "false" and refused["reason"] == "expired", refused
    assert "二维码已过期" in refused["title"] and "刷新" in refused["who"], refused
    screenshot(gate_phone, "checkpoint-refused")
    for driver in (phone, gate_phone):
        no_script_errors(driver)
