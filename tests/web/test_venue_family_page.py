"""Family members at a venue scan in Chromium (docs/venues.md#family-members): a guardian opens a venue poster's URL,
ticks the grandmother and the grandson who came along, and the pass shows his own card and one card for each, in
their own live colors and labelled as a family member's; the grandson has no code yet, so his card says so. The
pass passes axe-core's accessibility check."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib import clock
from chalicelib.domain import days
from tests import people
from tests.web.conftest import LiveApi
from tests.web.test_family_and_access import serious_violations, session_token
from tests.web.test_venue_page import authority, pass_color
from tests.web.test_web_client import CitizenPage, by_css, fits_the_phone, no_script_errors, shown, text, wait

pytestmark = pytest.mark.usefixtures("pump_thread")


def dependant(api: LiveApi, token: str, name: str, years: int, relationship: str) -> dict[str, str]:
    today = days.today(clock.now())
    born = today.replace(year=today.year - years) - dt.timedelta(days=40)
    status, added = api.call("POST", "/v1/me/dependants", {
        "name": name, "id_number": people.id_number("440106", born), "birth_date": born.isoformat(),
        "relationship": relationship}, token=token)
    assert status == 201, added
    return added


def test_a_guardian_scanning_a_venue_sees_his_card_and_his_family_members_cards(phone, live_api, screenshot):
    admin = authority(live_api)
    status, venue = live_api.call("POST", "/v1/venues", {"name": "天河城购物中心", "county": "440106",
                                                         "type": "shop"}, token=admin)
    assert status == 201, venue
    citizen = CitizenPage(phone, live_api).open()
    citizen.log_in("王小明")
    citizen.apply(area="440106")
    wait(phone, lambda d: citizen.color() == "green", message="his green code")
    token = session_token(phone)
    grandma = dependant(live_api, token, "李秀英", 80, "grandparent")
    grandson = dependant(live_api, token, "王小宝", 6, "grandchild")           # no code applied for
    status, applied = live_api.call("POST", "/v1/codes", {
        "temperature": 36.5, "symptoms": [], "contact_with_cases": False, "stayed_in_high_risk_area": False,
        "current_area": "440106"}, token=token, headers={"X-Acting-For": grandma["dependant_id"]})
    assert status == 201, applied

    phone.get(live_api.url("/" + venue["scan_path"]))       # what the camera opens: <base>/venue#<token>
    wait(phone, lambda d: shown(d, "#members-form"), message="the family members' choice")
    boxes = phone.find_elements("css selector", "#member-choices input[name=member]")
    family = sorted([grandma["dependant_id"], grandson["dependant_id"]])   # listed in the dependants' order
    assert sorted(b.get_attribute("value") for b in boxes) == family
    assert "李*英" in text(phone, "#member-choices") and "祖父母" in text(phone, "#member-choices")
    assert serious_violations(phone) == []
    for box in boxes:
        box.click()
    by_css(phone, "#members-form button[type=submit]").click()

    wait(phone, lambda d: pass_color(d) == "green", message="his green pass")
    assert "王*明" in text(phone, "#pass-who") and "绿码" in text(phone, "#pass-color")
    hers = f"#pass-members .member-card[data-id='{grandma['dependant_id']}']"
    his = f"#pass-members .member-card[data-id='{grandson['dependant_id']}']"
    wait(phone, lambda d: shown(d, hers) and shown(d, his), message="the family members' cards")
    assert by_css(phone, hers).get_attribute("data-color") == "green"
    assert "李*英" in text(phone, hers) and "绿码" in text(phone, hers) and "已登记" in text(phone, hers)
    assert "家人" in text(phone, hers) and "family member" in text(phone, hers)
    assert by_css(phone, his).get_attribute("data-color") == "none" and "尚未申领" in text(phone, his)
    moving = phone.execute_script("return getComputedStyle(document.querySelector('.pass-orbit')).animationName")
    assert moving == "pass-spin"                             # the moving element stays with members on the pass
    ring, bar = (phone.execute_script(f"return document.querySelector('{css}').getBoundingClientRect().height")
                 for css in (".pass-mark", ".pass-sweep"))
    assert (ring, bar) == (120, 10)                          # scrolled, not squashed by the cards
    assert fits_the_phone(phone)
    screenshot(phone, "venue-pass-family")
    assert serious_violations(phone) == []

    # two visits recorded, his and hers; none for the grandson without a code
    status, visits = live_api.call("GET", f"/v1/venues/{venue['venue_id']}/visits?from={clock.now() - 600}"
                                          f"&to={clock.now() + 600}", token=admin)
    assert status == 200 and sorted(v["name_masked"] for v in visits["list"]) == ["李*英", "王*明"], visits
    no_script_errors(phone)
