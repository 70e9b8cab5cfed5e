"""Venue codes (issue 18): a venue is registered and its poster printed, citizens scan it, a tracer publishes that a
case was there, and everyone who was there then turns yellow; the tracer's list shows in each visitor's access log.
"""
from __future__ import annotations

import random
import struct
import zlib
from typing import Any

import jwt
import zxingcpp

from chalicelib import clock
from chalicelib.domain import divisions, venues as rules
from chalicelib.security import qr_tokens
from chalicelib.security.access import Role
from chalicelib.settings import get_settings
from chalicelib.store import venues as store
from tests.conftest import auth, client_token, dump
from tests.dated import _clear_of_midnight, _leave_no_events_behind  # noqa: F401 (autouse fixtures)
from tests.test_risk_scenarios import QUIET_PREFECTURES, code_of, color, drain, resident

_rng = random.Random()


def county_of(province: str) -> str:
    """A county where no test raises a level (a venue's visitors keep the color of their own sources)."""
    quiet = QUIET_PREFECTURES[province][:4]
    return _rng.choice([c for c in divisions.all_counties() if c.startswith(quiet) and not c.endswith("00")])


def register(client: Any, admin: dict[str, str], county: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "天河城购物中心", "county": county, "address": "天河路208号", "type": "shop", **extra}
    response = client.post("/v1/venues", headers=admin, body=dump(body))
    assert response.status_code == 201, response.json_body
    return response.json_body


def scan(client: Any, person: Any, **body: Any) -> Any:
    return client.post("/v1/visits", headers=person.headers, body=dump(body))


def token_of(venue: dict[str, Any]) -> str:
    assert venue["scan_path"] == f"venue#{venue['token']}"
    return venue["token"]


def test_a_tracer_finds_who_was_at_a_venue_when_a_case_was_there(client, citizen, health_authority, pump):
    venue = register(client, health_authority("44"), county_of("44"))
    assert rules.is_venue_number(venue["number"]) and venue["active"] is True
    inside = resident(citizen)
    start = clock.now()

    shown = scan(client, inside, venue_token=token_of(venue))
    assert shown.status_code == 201, shown.json_body
    assert shown.json_body["color"] == "green" and shown.json_body["venue"]["name"] == "天河城购物中心"
    assert shown.json_body["name_masked"] == code_of(client, inside)["name_masked"]
    clock.shift(3 * 3600)                       # three hours later, long after the case left
    outside, tracer = resident(citizen), health_authority("44")
    assert scan(client, outside, venue_number=venue["number"]).status_code == 201
    inside = citizen(inside.id_number, inside.name)     # logged in again: sessions last an hour

    published = client.post("/v1/venue-exposures", headers=tracer, body=dump(
        {"venue_id": venue["venue_id"], "from": start - 600, "to": start + 1200, "case_type": "confirmed"}))
    assert published.status_code == 201, published.json_body
    assert published.json_body["buffer_seconds"] == 1800
    # the request recomputed nobody: the fan-out does
    assert color(client, inside) == "green"
    drain(pump)
    assert color(client, inside) == "yellow"
    assert [r["code"] for r in code_of(client, inside)["reasons"]] == ["venue_exposure"]
    assert color(client, outside) == "green"

    window = client.get(f"/v1/venues/{venue['venue_id']}/visits?from={start - 3600}&to={start + 3600}",
                        headers=tracer)
    assert window.status_code == 200, window.json_body
    assert len(window.json_body["list"]) == 1 and window.json_body["next_cursor"] is None
    assert window.json_body["list"][0]["name_masked"] == code_of(client, inside)["name_masked"]
    log = client.get("/v1/me/access-log", headers=inside.headers).json_body["accesses"]
    assert [(e["action"], e["ref"], e["province"]) for e in log][:1] == [("venue_visits", venue["venue_id"], "44")]
    assert not [e for e in client.get("/v1/me/access-log", headers=outside.headers).json_body["accesses"]
                if e["action"] == "venue_visits"]


def test_a_visit_is_a_stay_in_the_venues_county_so_its_area_level_applies(client, citizen, health_authority):
    authority = health_authority("44")
    county = county_of("44")
    venue = register(client, authority, county)
    person = resident(citizen)
    assert scan(client, person, venue_token=token_of(venue)).status_code == 201
    cities = client.get("/v1/me/cities", headers=person.headers).json_body["cities"]
    assert [(c["area"], c["sources"]) for c in cities if c["area"] == county] == [(county, ["venue"])]


def test_scans_of_one_venue_within_five_minutes_record_one_visit(client, citizen, health_authority):
    authority = health_authority("44")
    venue = register(client, authority, county_of("44"))
    person = resident(citizen)
    clock.shift(rules.bucket(clock.now()) + rules.VISIT_BUCKET_SECONDS + 10 - clock.now())   # early in a bucket
    first = scan(client, person, venue_token=token_of(venue))
    clock.shift(120)
    again = scan(client, person, venue_number=venue["number"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["recorded"] is False and again.json_body["visited_at"] == first.json_body["visited_at"]
    clock.shift(rules.VISIT_BUCKET_SECONDS)
    assert scan(client, person, venue_token=token_of(venue)).status_code == 201
    stats = client.get(f"/v1/venues/{venue['venue_id']}/stats", headers=authority).json_body
    assert stats["total"] == 2 and sum(h["visits"] for h in stats["hours"]) == 2
    assert set(stats) == {"venue_id", "date", "total", "hours"}       # counts only, nothing about anyone


def test_forged_rotated_and_deactivated_venue_codes_are_refused_with_their_reason(client, citizen,
                                                                                  health_authority):
    authority = health_authority("44")
    venue = register(client, authority, county_of("44"))
    person = resident(citizen)
    token = token_of(venue)

    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    refused = scan(client, person, venue_token=forged)
    assert refused.status_code == 422, refused.json_body
    assert refused.json_body["error"]["code"] == "invalid_venue_token"
    assert refused.json_body["error"]["details"][0]["reason"] == "bad_signature"
    qr = person.qr_token()                     # a citizen's own QR is no venue code
    assert scan(client, person, venue_token=qr).json_body["error"]["details"][0]["reason"] == "malformed"
    unsigned = jwt.encode({"sub": venue["venue_id"], "g": 1, "exp": clock.now() + 60}, "x" * 32, algorithm="HS256",
                          headers={"typ": "venue", "kid": jwt.get_unverified_header(token)["kid"]})
    assert scan(client, person, venue_token=unsigned).json_body["error"]["details"][0]["reason"] == "bad_signature"
    ring = qr_tokens.key_ring(get_settings().qr_token_ttl)    # signed by us, a year ago
    old = jwt.encode({"sub": venue["venue_id"], "g": 1, "exp": clock.now() - 60}, ring.signing_key, algorithm="ES256",
                     headers={"typ": "venue", "kid": ring.signing_kid})
    expired = scan(client, person, venue_token=old)
    assert expired.status_code == 422 and expired.json_body["error"]["details"][0]["reason"] == "expired"

    rotated = client.post(f"/v1/venues/{venue['venue_id']}/token", headers=authority)
    assert rotated.status_code == 200 and rotated.json_body["token_generation"] == 2
    old = scan(client, person, venue_token=token)
    assert (old.status_code, old.json_body["error"]["code"]) == (422, "venue_token_revoked")
    assert scan(client, person, venue_token=rotated.json_body["token"]).status_code == 201

    closed = client.patch(f"/v1/venues/{venue['venue_id']}", headers=authority, body=dump({"active": False}))
    assert closed.status_code == 200 and closed.json_body["active"] is False
    for body in ({"venue_token": rotated.json_body["token"]}, {"venue_number": venue["number"]}):
        refused = scan(client, person, **body)
        assert (refused.status_code, refused.json_body["error"]["code"]) == (403, "venue_inactive")

    typo = venue["number"][:7] + str((int(venue["number"][7]) + 1) % 10)
    assert scan(client, person, venue_number=typo).json_body["error"]["details"][0]["type"] == "venue_number"


def test_a_province_manages_only_its_own_venues(client, health_authority):
    guangdong, sichuan = health_authority("44"), health_authority("51")
    admin = auth(client_token(client, Role.VENUE_ADMIN, province="44"))
    venue = register(client, admin, county_of("44"), capacity=300)
    assert venue["created_by"] != "" and venue["capacity"] == 300
    assert client.post("/v1/venues", headers=admin, body=dump(
        {"name": "春熙路店", "county": county_of("51"), "type": "shop"})).json_body["error"]["code"] == \
        "outside_province"
    for method, path, body in (("GET", f"/v1/venues/{venue['venue_id']}", None),
                               ("PATCH", f"/v1/venues/{venue['venue_id']}", {"name": "别人的店"}),
                               ("POST", f"/v1/venues/{venue['venue_id']}/token", None),
                               ("GET", f"/v1/venues/{venue['venue_id']}/visits?from=1&to=2", None),
                               ("POST", "/v1/venue-exposures", {"venue_id": venue["venue_id"],
                                                                "from": clock.now() - 7200,
                                                                "to": clock.now() - 3600,
                                                                "case_type": "suspected"})):
        response = client.request(method, path, headers=sichuan, body=dump(body) if body else b"")
        assert (response.status_code, response.json_body["error"]["code"]) == (403, "outside_province"), path
    # the venue's own client sees counts, never people
    assert client.get(f"/v1/venues/{venue['venue_id']}/stats", headers=admin).status_code == 200
    assert client.get(f"/v1/venues/{venue['venue_id']}/visits?from=1&to=2", headers=admin).status_code == 403
    changed = client.patch(f"/v1/venues/{venue['venue_id']}", headers=guangdong,
                           body=dump({"name": "天河城", "capacity": None}))
    assert changed.status_code == 200 and (changed.json_body["name"], changed.json_body["capacity"]) == ("天河城", None)
    listed = client.get("/v1/venues?limit=100", headers=admin).json_body
    ids = [v["venue_id"] for v in listed["venues"]]
    while listed["next_cursor"]:
        listed = client.get(f"/v1/venues?limit=100&cursor={listed['next_cursor']}", headers=admin).json_body
        ids += [v["venue_id"] for v in listed["venues"]]
    assert venue["venue_id"] in ids
    assert all(store.get(v).province == "44" for v in ids[:20])
    assert client.get("/v1/venues/ven_000000000000", headers=guangdong).json_body["error"]["code"] == \
        "unknown_venue"


def test_the_poster_carries_the_scan_url_name_and_number(client, health_authority):
    authority = health_authority("44")
    venue = register(client, authority, county_of("44"), name="地铁体育西路站 <B口>")
    svg = client.get(f"/v1/venues/{venue['venue_id']}/poster.svg", headers=authority)
    assert svg.status_code == 200 and svg.headers["Content-Type"] == "image/svg+xml"
    text = svg.body.decode()
    assert "地铁体育西路站 &lt;B口&gt;" in text and f"{venue['number'][:4]} {venue['number'][4:]}" in text
    png = client.get(f"/v1/venues/{venue['venue_id']}/poster.png",
                     headers={**authority, "Accept": "image/png", "Host": "hc.example", "X-Forwarded-Proto": "http"})
    assert png.status_code == 200 and png.body[:8] == b"\x89PNG\r\n\x1a\n"
    found = [b.text for b in zxingcpp.read_barcodes(grey_pixels(png.body)) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert found == [f"http://hc.example/venue#{venue['token']}"]


def grey_pixels(png: bytes) -> memoryview:
    """The pixels of the poster's PNG (8-bit grey, filter 0 on every row: venue_posters._encode), for zxing-cpp."""
    width, height = struct.unpack(">II", png[16:24])
    at, data = 8, b""
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        if kind == b"IDAT":
            data += png[at + 8:at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(data)
    rows = b"".join(raw[y * (width + 1) + 1:(y + 1) * (width + 1)] for y in range(height))
    return memoryview(rows).cast("B", shape=[height, width])


def test_every_province_hears_of_a_venue_exposure(client, health_authority, pump):
    from tests.receiver import Receiver

    zhejiang = auth(client_token(client, Role.PROVINCE, province="33"))
    receiver = Receiver().start()
    try:
        hook = client.post("/v1/webhooks", headers=zhejiang, body=dump(
            {"url": receiver.url, "event_types": ["venue.exposure_published"], "description": "venue test"})).json_body
        receiver.secrets.append(hook["secret"])
        authority = health_authority("44")
        venue = register(client, authority, county_of("44"))
        published = client.post("/v1/venue-exposures", headers=authority, body=dump(
            {"venue_id": venue["venue_id"], "from": clock.now() - 3600, "to": clock.now() - 600,
             "case_type": "suspected"})).json_body
        drain(pump)
        found = [d["body"] for d in receiver.unique().values() if d["body"]["type"] == "venue.exposure_published"]
        assert [b["data"] for b in found] == [published]
        assert "set_by" not in found[0]["data"]
    finally:
        client.delete(f"/v1/webhooks/{hook['id']}", headers=zhejiang)
        receiver.stop()
