"""The web client for families and elders, in Chromium: a grandson switches to his grandmother's code with the
large-avatar switcher, applies for her and shows her QR, labelled as hers; the elder mode; and an automated
accessibility check (axe-core, from the npm package pinned in package.json) with no serious violation on the code
page, in either mode."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.domain import days
from tests import people
from tests.web.conftest import ROOT, LiveApi
from tests.web.test_web_client import CitizenPage, by_css, fits_the_phone, no_script_errors, shown, text, wait

pytestmark = pytest.mark.usefixtures("pump_thread")
AXE = Path(os.environ.get("HEALTHCODE_AXE_JS", ROOT / "node_modules" / "axe-core" / "axe.min.js"))


def axe_source() -> str:
    if not AXE.is_file():
        message = f"the accessibility check needs axe-core ({AXE}): `npm ci` installs it (package.json)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def serious_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA rules over the page as shown; the serious and critical findings."""
    driver.execute_script(axe_source())
    driver.set_script_timeout(30)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map((n) => n.target.join(' '))})))).catch((e) => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def session_token(driver: Any) -> str:
    return driver.execute_script("return JSON.parse(sessionStorage.getItem('hc.citizen')).token")


def test_a_grandson_shows_his_grandmothers_code_and_the_code_page_passes_the_accessibility_check(
        phone, live_api: LiveApi, screenshot):
    page = CitizenPage(phone, live_api).open()
    page.log_in("王小明")
    page.apply(temperature="36.5", area="110101")
    wait(phone, lambda d: page.color() == "green" and page.qr_ready(), message="his own green code")
    assert serious_violations(phone) == []

    today = days.today(clock.now())
    born = today.replace(year=today.year - 82) - dt.timedelta(days=20)
    status, added = live_api.call("POST", "/v1/me/dependants", {
        "name": "李秀英", "id_number": people.id_number("110101", born), "birth_date": born.isoformat(),
        "relationship": "grandparent"}, token=session_token(phone))
    assert status == 201, added
    page.open("code")
    hers = f"#switcher .avatar[data-id='{added['dependant_id']}']"
    wait(phone, lambda d: shown(d, hers), message="her avatar")
    assert text(phone, "#switcher .avatar[aria-pressed=true] .name") == "王*明"
    screenshot(phone, "citizen-switcher")
    by_css(phone, hers).click()

    page.apply(temperature="36.4", area="110101")            # she has no code yet: he applies for her
    wait(phone, lambda d: page.color() == "green" and page.qr_ready() and text(d, "#code-name") == "李*英",
         message="her code")
    assert shown(phone, "#acting-label") and "家人" in text(phone, "#acting-label")
    assert not shown(phone, "a[href='#access']")              # her access log is hers to read, not his
    token = page.qr_token()
    status, verified = live_api.call("POST", "/v1/verifications", {"token": token, "checkpoint_id": "e2e"},
                                     token=checkpoint_token(live_api))
    assert status == 200 and verified["valid"] is True and verified["name_masked"] == "李*英"
    assert fits_the_phone(phone)
    screenshot(phone, "citizen-dependant-code")
    assert serious_violations(phone) == []

    # elder mode: large type, high contrast, fewer tiles; still accessible
    by_css(phone, "#elder").click()
    wait(phone, lambda d: "elder" in d.execute_script("return document.body.className"))
    assert by_css(phone, "#elder").get_attribute("aria-pressed") == "true"
    size = phone.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 20
    assert not shown(phone, "a[href='#copassenger']") and shown(phone, "a[href='#trips']")
    assert fits_the_phone(phone)
    screenshot(phone, "citizen-elder-mode")
    assert serious_violations(phone) == []

    # back to his own code
    wait(phone, lambda d: shown(d, "#switcher .avatar[data-id=me]"))
    by_css(phone, "#switcher .avatar[data-id=me]").click()
    wait(phone, lambda d: text(d, "#code-name") == "王*明" and not shown(d, "#acting-label"), message="his code")
    no_script_errors(phone)


def checkpoint_token(api: LiveApi) -> str:
    from chalicelib.security.access import Role
    from chalicelib.services.sessions import create_client

    created = create_client(Role.CHECKPOINT, "Beijing Dongcheng community (e2e)", area="110101")
    return api.client_token(created["client_id"], created["client_secret"])


def test_the_checkpoints_pass_page_passes_the_accessibility_check(phone, gate_phone, live_api: LiveApi):
    from tests.web.test_web_client import CheckpointPage, checkpoint_client

    page = CitizenPage(phone, live_api).open()
    page.log_in("赵桂兰")
    page.apply(temperature="36.5", area="510104")
    wait(phone, lambda d: page.color() == "green" and page.qr_ready(), message="a green code")
    gate = CheckpointPage(gate_phone, live_api).open()
    credentials = checkpoint_client()
    gate.log_in(credentials["client_id"], credentials["client_secret"])
    assert serious_violations(gate_phone) == []                 # the scan screen
    result = gate.verify(page.qr_token(), temperature="36.6")
    assert result["valid"] == "true" and result["color"] == "green", result
    assert serious_violations(gate_phone) == []                 # the full-screen pass
    gate.next()
    # her paper code, its 12 digits typed at the gate: the live color, and the page says it is a paper code
    status, paper = live_api.call("POST", "/v1/paper-codes", {}, token=session_token(phone))
    assert status == 201, paper
    typed = gate.verify(paper["number"])
    assert typed["valid"] == "true" and typed["color"] == "green", typed
    meta = text(gate_phone, "#result-meta")
    assert "纸质码 paper code" in meta and paper["number"] in meta and "live color" in meta
    no_script_errors(gate_phone)
