"""The web client for citizens and checkpoint staff: static files in chalicelib/web/, served by the app.

The pages call the same public API as any mini-program, by relative URL, so they work at the root of
`chalice local` and under API Gateway's stage prefix alike. Pages are revalidated on every load
(`no-cache` with an ETag); assets are named in the pages with a content hash (`web/app.js?v=...`) and
cached for a year when asked for by that hash, so a deploy never mixes old scripts with new pages.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routes import route
from chalicelib.errors import NotFound

bp = Blueprint(__name__)
WEB = Path(__file__).resolve().parents[1] / "web"
PAGES = {"index": "index.html", "citizen": "citizen.html", "checkpoint": "checkpoint.html", "venue": "venue.html"}
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml; charset=utf-8"}
SERVICE_WORKER = "sw.js"   # the checkpoint page's offline copy (web/sw.js): never pinned, always revalidated
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# scripts and styles only from files of ours; the QR is an SVG fetched with the citizen's token and shown as a
# blob: URL; the camera's stream is a MediaStream (no URL at all)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
       "media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Permissions-Policy": "camera=(self), microphone=(), geolocation=()", "X-Frame-Options": "DENY"}
_ASSET_REF = re.compile(r'(?P<attr>(?:src|href))="web/(?P<name>[A-Za-z0-9_.-]+)"')


@dataclass(frozen=True)
class File:
    body: str
    content_type: str
    etag: str


def _etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'


@functools.lru_cache(maxsize=1)
def assets() -> dict[str, File]:
    """Every file under chalicelib/web/ but the pages, by name."""
    found = {}
    for path in sorted(WEB.iterdir()):
        if path.is_file() and path.suffix in TYPES and path.name not in PAGES.values():
            body = path.read_text(encoding="utf-8")
            found[path.name] = File(body, TYPES[path.suffix], _etag(body))
    return found


@functools.cache
def page(name: str) -> File:
    """A page with each `web/NAME` reference pinned to the asset's current hash."""
    known = assets()

    def pin(match: re.Match[str]) -> str:
        asset = known.get(match["name"])
        if asset is None:
            raise LookupError(f"{PAGES[name]} refers to web/{match['name']}, which does not exist")
        return f'{match["attr"]}="web/{match["name"]}?v={asset.etag.strip(chr(34))}"'

    body = _ASSET_REF.sub(pin, (WEB / PAGES[name]).read_text(encoding="utf-8"))
    return File(body, TYPES[".html"], _etag(body))


def _serve(file: File, cache_control: str, extra: dict[str, str] | None = None) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": file.content_type, "Cache-Control": cache_control, "ETag": file.etag,
        "X-Content-Type-Options": "nosniff", **(extra or {})}
    asked = bp.current_request.headers.get("if-none-match") or ""
    if file.etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*":
        return Response(body="", status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    return Response(body=file.body, status_code=200, headers=headers)


@route(bp, "/", methods=["GET"])
def index() -> Response:
    return _serve(page("index"), REVALIDATE, PAGE_HEADERS)


@route(bp, "/citizen", methods=["GET"])
def citizen() -> Response:
    return _serve(page("citizen"), REVALIDATE, PAGE_HEADERS)


@route(bp, "/checkpoint", methods=["GET"])
def checkpoint() -> Response:
    return _serve(page("checkpoint"), REVALIDATE, PAGE_HEADERS)


@route(bp, "/venue", methods=["GET"])
def venue() -> Response:
    """The venue scan page a poster's QR opens (`venue#<token>`): records the visit and shows the pass"""
    return _serve(page("venue"), REVALIDATE, PAGE_HEADERS)


@route(bp, "/web/{name}", methods=["GET"])
def asset(name: str) -> Response:
    file = assets().get(name)
    if file is None:
        raise NotFound(f"No web asset named {name}.")
    if name == SERVICE_WORKER:
        # it lives in web/ but controls the checkpoint page one folder up (relative: the stage prefix stays)
        return _serve(file, REVALIDATE, {"Service-Worker-Allowed": "../"})
    params = bp.current_request.query_params
    pinned = params is not None and params.get("v") == file.etag.strip('"')
    return _serve(file, IMMUTABLE if pinned else REVALIDATE)
