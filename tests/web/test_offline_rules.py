"""Offline, the checkpoint page applies what issues 19 and 20 added (docs/identity.md "Paper codes",
docs/tests-and-vaccinations.md "Checkpoints with entry rules"), in headless Chromium, in one page session:

- a paper code verifies offline with the JWKS key `pc1`, its color shown as the printed one; a paper code reported
  lost while the page was online (after it had fetched the revocation list, before it fetched it again on load) is
  refused offline as revoked; the offline paper scan is uploaded once the API answers again;
- a checkpoint whose rule admits green only denies a yellow QR token offline and admits a green one; a paper
  code's printed color never admits; a checkpoint whose rule also needs a negative test says, offline, that the
  test must be checked in person and does not admit.

The API is a `chalice local` of this module's own, started after the rules are set (the signed rule set is cached
60 s per container), behind the fault proxy, which answers 503 to take the page offline.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.domain.colors import Color
from chalicelib.domain.lab_results import EntryRule
from chalicelib.services import entry_rules
from tests.web.conftest import LiveApi
from tests.web.test_offline_checkpoint import (
    PROBE_EVERY_S,
    FaultProxy,
    Holder,
    OwnApi,
    controlled_and_keyed,
    offline_rows,
    queue_count,
    result_of,
)
from tests.web.test_web_client import CheckpointPage, by_css, checkpoint_client, no_script_errors, shown, text, wait

pytestmark = pytest.mark.usefixtures("pump_thread")


@pytest.fixture(scope="module")
def gates(dynamodb: Any) -> dict[str, dict[str, Any]]:
    """Two checkpoints: one admitting green only, one also needing a negative test within 48 h."""
    green_only, tested = checkpoint_client(), checkpoint_client()
    entry_rules.set_rule(None, green_only["client_id"], EntryRule((Color.GREEN,)))
    entry_rules.set_rule(None, tested["client_id"], EntryRule((Color.GREEN,), 48))
    return {"green_only": green_only, "tested": tested}


@pytest.fixture(scope="module")
def rules_api(gates: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnApi]:
    server = OwnApi(tmp_path_factory.mktemp("rules-chalice-local"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxy(rules_api: OwnApi) -> Iterator[FaultProxy]:
    fault = FaultProxy(rules_api.base)
    try:
        yield fault
    finally:
        fault.close()


def paper_code(api: LiveApi, holder: Holder) -> dict[str, Any]:
    status, body = api.call("POST", "/v1/paper-codes", {}, token=holder.token)
    assert status == 201, body
    return body


def admission(gate: CheckpointPage) -> dict[str, str]:
    driver = gate.driver
    return {"admit": by_css(driver, "#result").get_attribute("data-admit") or "",
            "shown": text(driver, "#result-admit") if shown(driver, "#result-admit") else "",
            "unmet": text(driver, "#result-unmet") if shown(driver, "#result-unmet") else ""}


def held_revocations(driver: Any) -> list[str]:
    return driver.execute_script(
        "const h = JSON.parse(localStorage.getItem('hc.paper-revocations') || 'null');"
        "return h ? Object.keys(h.entries) : null;")


def test_offline_paper_codes_and_entry_rules(gate_phone, rules_api, proxy, gates, screenshot):
    api = rules_api.api
    green, yellow = Holder(api), Holder(api, temperature=38.0)
    assert (green.color, yellow.color) == ("green", "yellow")
    kept, lost = paper_code(api, green), paper_code(api, yellow)
    assert kept["color_at_issue"] == "green"
    green_token, yellow_token = green.qr_token(), yellow.qr_token()

    gate = CheckpointPage(gate_phone, LiveApi(proxy.base, None, rules_api.log_dir / "chalice-local.log")).open()
    gate.log_in(gates["green_only"]["client_id"], gates["green_only"]["client_secret"], gate="gate-rule-1")
    online = gate.verify(green.qr_token())
    assert online["color"] == "green" and admission(gate)["admit"] == "true"
    gate.next()
    wait(gate_phone, controlled_and_keyed, timeout=15, message="the service worker and the cached keys")
    wait(gate_phone, lambda d: held_revocations(d) is not None, message="the revocation list fetched")
    assert lost["number"] not in held_revocations(gate_phone)

    # the lost paper code is reported while the page is online; it fetches the list again (here: on a reload)
    status, body = api.call("POST", f"/v1/paper-codes/{lost['number']}/revoke", {}, token=yellow.token)
    assert status == 200, body
    gate_phone.refresh()
    wait(gate_phone, lambda d: lost["number"] in (held_revocations(d) or []), message="the revocation listed")
    assert "revocations as of" in text(gate_phone, "#revocations-age")

    # 1. offline: the paper code verifies, with its printed color marked as such; the lost one is refused
    proxy.mode = "503"
    paper = gate.verify(kept["token"])
    assert paper["valid"] == "true" and paper["color"] == "green", paper
    shown_result = result_of(gate)
    assert shown_result["mode"] == "offline", shown_result
    assert "printed color" in shown_result["banner"] and "revocations as of" in shown_result["banner"], shown_result
    assert "not the live one" in paper["who"] and kept["number"] in shown_result["meta"], (paper, shown_result)
    # the rule admits green, but a printed color may be two weeks old: never admitted offline
    assert admission(gate)["admit"] == "check" and "需人工核验" in admission(gate)["shown"], admission(gate)
    screenshot(gate_phone, "checkpoint-offline-paper")
    gate.next()
    refused = gate.verify(lost["token"])
    assert refused["valid"] == "false" and refused["reason"] == "revoked", refused
    assert result_of(gate)["mode"] == "offline"
    gate.next()

    # 2. offline, the rule "green only": a yellow QR token is denied, a green one admitted
    denied = gate.verify(yellow_token)
    assert denied["color"] == "yellow" and result_of(gate)["mode"] == "offline", denied
    said = admission(gate)
    assert said["admit"] == "false" and "不予通行" in said["shown"] and "not admitted" in said["unmet"], said
    gate.next()
    admitted = gate.verify(green_token)
    assert admitted["color"] == "green" and result_of(gate)["mode"] == "offline", admitted
    said = admission(gate)
    assert said["admit"] == "true" and "准许通行" in said["shown"] and not said["unmet"], said
    gate.next()
    wait(gate_phone, lambda d: queue_count(d) == 3, message="three scans waiting (not the revoked paper code)")

    # back online: the queue, the paper scan among it, is uploaded
    proxy.mode = "pass"
    wait(gate_phone, lambda d: queue_count(d) == 0, timeout=PROBE_EVERY_S * 4, message="the queue uploaded")
    green_rows = offline_rows(green.code_id)
    assert len(green_rows) == 2 and {r.offline.shown_color for r in green_rows if r.offline} == {"green"}, green_rows

    # 3. a checkpoint whose rule needs a negative test: offline, the test is to be checked in person
    by_css(gate_phone, "#logout").click()
    gate.log_in(gates["tested"]["client_id"], gates["tested"]["client_secret"], gate="gate-rule-2")
    wait(gate_phone, lambda d: shown(d, "#verify-form"), message="the scan screen")
    proxy.mode = "503"
    checked = gate.verify(green.qr_token_via(api))
    assert checked["color"] == "green" and result_of(gate)["mode"] == "offline", checked
    said = admission(gate)
    assert said["admit"] == "check" and "准许通行" not in said["shown"], said
    assert "需人工核验" in said["unmet"] and "check the test result in person" in said["unmet"].lower(), said
    screenshot(gate_phone, "checkpoint-offline-rule-test")
    gate.next()
    no_script_errors(gate_phone)
