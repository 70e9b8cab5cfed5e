"""The web client with tests and vaccinations: a lab's negative test shows as a badge under the QR, and a hospital
gate whose rule needs a test within 24 hours shows "deny" first, then the reason."""
from __future__ import annotations

import time

import pytest

from chalicelib import clock
from chalicelib.domain.colors import Color
from chalicelib.domain.lab_results import EntryRule
from chalicelib.security.access import Role
from chalicelib.services import entry_rules
from chalicelib.services.sessions import create_client
from tests import people
from tests.web.test_web_client import CheckpointPage, CitizenPage, by_css, no_script_errors, shown, text, wait

HOUR = 3600
pytestmark = pytest.mark.usefixtures("pump_thread")


def test_a_negative_test_shows_under_the_qr_and_a_24h_gate_denies_with_the_reason(phone, gate_phone, live_api,
                                                                                  screenshot):
    id_number = people.in_province("51")
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in("张晓燕", id_number)
    citizen.apply(temperature="36.5", area="510104")
    wait(phone, lambda d: citizen.color() == "green" and citizen.qr_ready(), message="a green code")
    assert not shown(phone, "#health-badges")

    lab = create_client(Role.LAB, "成都市疾控中心实验室 (e2e)", province="51")
    sample = clock.now() - 30 * HOUR
    record = {"id_number": id_number, "record_id": "e2e-t-1", "sample_time": sample, "result_time": sample + 6 * HOUR,
              "result": "negative", "test_type": "pcr", "institution": {"name": "成都市疾控中心", "county": "510104"},
              "version": 1}
    dose = {"id_number": id_number, "record_id": "e2e-v-1", "product": "新冠病毒灭活疫苗", "dose": 1,
            "date": "2026-03-01", "institution": {"name": "锦江区社区卫生服务中心", "county": "510104"}, "version": 1}
    token = live_api.client_token(lab["client_id"], lab["client_secret"])
    for path, body in (("/v1/sync/test-results", record), ("/v1/sync/vaccinations", dose)):
        status, answer = live_api.call("POST", path, {"province": "51", "records": [body]}, token=token)
        assert status == 200 and answer["written"] == 1, answer

    # the pump recomputes the code; the citizen presses Refresh, which reads the code again
    pressed = [time.monotonic()]

    def badges(driver) -> bool:
        if "48小时内阴性" in text(driver, "#health-badges"):
            return True
        if time.monotonic() - pressed[0] > 1.5:
            pressed[0] = time.monotonic()
            by_css(driver, "#qr-refresh").click()
        return False
    wait(phone, badges, timeout=30, message="the 48-hour badge")
    assert "已接种 1 剂" in text(phone, "#health-badges")
    screenshot(phone, "citizen-code-tested")
    qr = citizen.qr_token()

    gate_client = create_client(Role.CHECKPOINT, "华西医院东门 (e2e)", area="510107")
    entry_rules.set_rule(None, gate_client["client_id"], EntryRule((Color.GREEN,), 24, None))
    gate = CheckpointPage(gate_phone, live_api).open()
    gate.log_in(gate_client["client_id"], gate_client["client_secret"], gate="east-gate")
    result = gate.verify(qr)
    assert result["valid"] == "true" and result["color"] == "green", result
    assert by_css(gate_phone, "#result").get_attribute("data-admit") == "false"
    assert text(gate_phone, "#result-admit").startswith("✕ 不予通行")
    assert "无24小时内核酸检测阴性结果" in text(gate_phone, "#result-unmet")
    # deny comes first, above the color
    admit_y = by_css(gate_phone, "#result-admit").location["y"]
    assert admit_y < by_css(gate_phone, "#result-title").location["y"]
    screenshot(gate_phone, "checkpoint-denied")
    for driver in (phone, gate_phone):
        no_script_errors(driver)
