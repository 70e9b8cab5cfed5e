"""The venue scan page end to end (issue 18): a phone's camera opens a venue poster's URL, the citizen (logged in
in this tab) sees the pass in the live color with the venue, a running clock and the masked name; after a tracer
publishes that a case was there, the next scan shows yellow."""
from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.security.access import Role
from chalicelib.services.sessions import create_client
from tests.web.conftest import LiveApi
from tests.web.test_web_client import CitizenPage, by_css, fits_the_phone, no_script_errors, shown, text, wait

pytestmark = pytest.mark.usefixtures("pump_thread")


def authority(api: LiveApi) -> str:
    created = create_client(Role.HEALTH_AUTHORITY, "Guangdong CDC (browser test)", province="44")
    return api.client_token(created["client_id"], created["client_secret"])


def pass_color(driver: Any) -> str:
    return by_css(driver, "#pass").get_attribute("data-color") if shown(driver, "#pass") else ""


def test_a_scanned_venue_url_shows_the_pass_in_the_live_color(phone, live_api, screenshot):
    token = authority(live_api)
    status, venue = live_api.call("POST", "/v1/venues", {"name": "体育西路地铁站", "county": "440106",
                                                         "type": "transport"}, token=token)
    assert status == 201, venue
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in("王小明")
    citizen.apply(area="440106")
    wait(phone, lambda d: citizen.color() == "green", message="a green code")
    scanned_at = clock.now()

    phone.get(live_api.url("/" + venue["scan_path"]))      # what the camera opens: <base>/venue#<token>
    wait(phone, lambda d: pass_color(d) == "green", message="a green pass")
    assert text(phone, "#pass-venue") == "体育西路地铁站"
    assert "王*明" in text(phone, "#pass-who") and "绿码" in text(phone, "#pass-color")
    first = by_css(phone, "#pass-clock").get_attribute("data-epoch")
    wait(phone, lambda d: by_css(d, "#pass-clock").get_attribute("data-epoch") != first, timeout=3,
         message="the clock running")
    moving = phone.execute_script(
        "return getComputedStyle(document.querySelector('.pass-orbit')).animationName")
    assert moving == "pass-spin"
    assert fits_the_phone(phone)
    screenshot(phone, "venue-pass-green")

    status, published = live_api.call("POST", "/v1/venue-exposures", {
        "venue_id": venue["venue_id"], "from": scanned_at - 600, "to": scanned_at + 600, "case_type": "confirmed"},
        token=token)
    assert status == 201, published
    deadline = time.monotonic() + 20
    while True:      # the fan-out runs on the pump's thread: scan again until the pass turns
        phone.get(live_api.url("/venue"))
        phone.get(live_api.url("/" + venue["scan_path"]))
        wait(phone, lambda d: pass_color(d) in ("green", "yellow"), message="a pass")
        if pass_color(phone) == "yellow" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert pass_color(phone) == "yellow"
    assert "黄码" in text(phone, "#pass-color") and "体育西路地铁站" in text(phone, "#pass-reasons")
    screenshot(phone, "venue-pass-yellow")
    no_script_errors(phone)


def test_a_deactivated_venue_and_a_typed_number_read_as_words(phone, live_api):
    token = authority(live_api)
    status, venue = live_api.call("POST", "/v1/venues", {"name": "天河城", "county": "440106", "type": "shop"},
                                  token=token)
    assert status == 201, venue
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in("李娜")
    citizen.apply(area="440106")
    wait(phone, lambda d: citizen.color() == "green", message="a green code")
    assert live_api.call("PATCH", f"/v1/venues/{venue['venue_id']}", {"active": False}, token=token)[0] == 200
    phone.get(live_api.url("/" + venue["scan_path"]))
    wait(phone, lambda d: shown(d, "#page-error"), message="the refusal")
    assert "停用" in text(phone, "#page-error")
    assert live_api.call("PATCH", f"/v1/venues/{venue['venue_id']}", {"active": True}, token=token)[0] == 200
    wait(phone, lambda d: shown(d, "#number-form"), message="the number form")
    by_css(phone, "#number-form [name=venue_number]").send_keys(venue["number"][:4] + " " + venue["number"][4:])
    by_css(phone, "#number-form button[type=submit]").click()
    wait(phone, lambda d: pass_color(d) == "green", message="a green pass")
    assert text(phone, "#pass-venue") == "天河城"
