"""How the app serves the web client (no browser needed): content types, caching, and only public API calls."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.api import web

PAGES = ["/", "/citizen", "/checkpoint"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_revalidated_on_every_load_and_locked_down(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["ETag"].startswith('"')
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.body.decode()
    assert '<meta name="viewport" content="width=device-width' in body
    assert "<script>" not in body and " style=" not in body and "onclick" not in body   # the CSP allows neither


@pytest.mark.parametrize("path", PAGES)
def test_an_unchanged_page_answers_304(client, path):
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body in (b"", "")
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_assets_are_pinned_by_hash_and_cached_for_a_year_only_under_that_hash(client):
    page = client.get("/citizen").body.decode()
    pinned = re.findall(r'(?:src|href)="web/([\w.-]+)\?v=([0-9a-f]{16})"', page)
    assert {name for name, _ in pinned} >= {"app.css", "common.js", "citizen.js"}
    types = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".svg": "image/svg+xml; charset=utf-8"}
    for name, version in pinned:
        response = client.get(f"/web/{name}?v={version}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == types[Path(name).suffix]
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["ETag"] == f'"{version}"'
        # the same file without its hash (or with an old one) must be revalidated
        assert client.get(f"/web/{name}").headers["Cache-Control"] == "no-cache"
        assert client.get(f"/web/{name}?v=0000").headers["Cache-Control"] == "no-cache"


def test_unknown_assets_and_pages_are_not_served(client):
    for path in ("/web/nope.js", "/web/citizen.html", "/web/..%2Fapi%2Fweb.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json_body["error"]["code"] == "not_found"


def test_every_page_refers_only_to_assets_that_exist():
    for name in web.PAGES:
        web.page(name)   # raises LookupError on a reference to a missing file


def test_the_pages_call_only_public_routes_of_the_app(app_module):
    """The client is a client like any mini-program: each API path its scripts call is a route of the app."""
    routes = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$") for path in app_module.app.routes]
    called = set()
    for script in web.WEB.glob("*.js"):
        for path in re.findall(r"""["`](v1/[a-z][^"`?]*)""", script.read_text()):
            called.add("/" + re.sub(r"\$\{[^}]+\}", "x", path))
    assert {"/v1/sessions", "/v1/codes", "/v1/codes/me", "/v1/codes/me/qr", "/v1/me/risk", "/v1/trips",
            "/v1/checkins", "/v1/exposures", "/v1/me/cities", "/v1/me/local-codes", "/v1/oauth/token",
            "/v1/verifications", "/v1/areas/x"} <= called
    assert [path for path in sorted(called) if not any(r.match(path) for r in routes)] == []
