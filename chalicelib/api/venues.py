"""Venue codes (场所码): venues and their posters, citizens' visits, venue exposures and a venue's visits
(docs/venues.md)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.fields import AreaCode, IsoDate, NoIdNumber
from chalicelib.api.routes import Batch, route
from chalicelib.domain import limits
from chalicelib.domain.dependants import MAX_DEPENDANTS
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.venues import VenueType
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import venues

bp = Blueprint(__name__)
ADMINS = [Role.HEALTH_AUTHORITY, Role.VENUE_ADMIN]
Name = Annotated[str, Field(min_length=2, max_length=60, description="As the poster shows it"), NoIdNumber]
Address = Annotated[str, Field(max_length=200), NoIdNumber]
Epoch = Annotated[int, Field(ge=0, le=4102444800, description="Epoch seconds")]
NO_STORE = {"Cache-Control": "no-store"}
DependantId = Annotated[str, Field(min_length=1, max_length=64, description="A `dependant_id`")]
# each person on the pass is one visit: the caller's counter takes one for them and one for each member
VISITS = Batch(limits.VISITS_PER_PERSON, lambda body: 1 + len(body.members))


class VenueRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name
    county: AreaCode = Field(description="The GB/T 2260 county-level division the venue is in")
    address: Address = ""
    type: VenueType
    capacity: int | None = Field(default=None, ge=1, le=1_000_000, description="How many people it holds")


class VenueChange(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name | None = None
    address: Address | None = None
    type: VenueType | None = None
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    active: bool | None = Field(default=None, description="false deactivates: every scan is refused; true reopens")

    @model_validator(mode="after")
    def _something(self) -> VenueChange:
        if not self.model_fields_set:
            raise ValueError("name, address, type, capacity or active: change at least one")
        for name in sorted(self.model_fields_set - {"capacity"}):   # capacity: null clears it
            if getattr(self, name) is None:
                raise ValueError(f"{name}: must not be null")
        return self


class VenueList(Model):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class VisitRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    venue_token: str | None = Field(default=None, min_length=1, max_length=1024,
                                    description="The token of the poster's QR (what follows `venue#`)")
    venue_number: str | None = Field(default=None, min_length=1, max_length=16,
                                     description="Or the 8-digit venue number printed on the poster")
    members: list[DependantId] = Field(
        default_factory=list, max_length=MAX_DEPENDANTS,
        description="Family members who came along: `dependant_id`s of my dependants (`GET /v1/me/dependants`), "
                    "each recorded too and shown on the pass with their own live color")

    @model_validator(mode="after")
    def _one(self) -> VisitRequest:
        if (self.venue_token is None) == (self.venue_number is None):
            raise ValueError("venue_token or venue_number: send exactly one")
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: list each dependant once")
        if self.venue_number is not None:
            self.venue_number = self.venue_number.replace(" ", "").replace("-", "")
        return self


class ExposureRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    venue_id: str = Field(min_length=16, max_length=16, pattern=r"^ven_[0-9a-f]{12}$")
    start: Epoch = Field(alias="from", description="When the case arrived (epoch seconds)")
    end: Epoch = Field(alias="to", description="When the case left")
    case_type: CaseType


class VisitorsQuery(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: Epoch = Field(alias="from")
    end: Epoch = Field(alias="to", description="Epoch seconds, at most 24 hours after `from`")
    limit: int = Field(default=200, ge=1, le=1000, description="At most this many visits read for the page")
    cursor: str | None = Field(default=None, max_length=512)


class StatsQuery(Model):
    model_config = ConfigDict(extra="forbid")
    date: IsoDate | None = Field(default=None, description="A day (China Standard Time); default today")


@route(bp, "/v1/venues", methods=["POST"], roles=ADMINS, body=VenueRequest, responds={201: "Venue"},
       idempotent="venue", errors=[errors.OUTSIDE_PROVINCE],
       example={"name": "天河城购物中心", "county": "440106", "address": "天河路208号", "type": "shop",
                "capacity": 5000})
def register(caller: Principal, body: VenueRequest) -> dict[str, Any]:
    """Register a venue of my province: its token, venue number and scan path come back"""
    return venues.register(caller, body.name, body.county, body.address, body.type, body.capacity)


@route(bp, "/v1/venues", methods=["GET"], roles=ADMINS, query=VenueList, responds={200: "VenuePage"})
def list_venues(caller: Principal, query: VenueList) -> dict[str, Any]:
    """My province's venues"""
    return venues.listed(caller, query.limit, query.cursor)


@route(bp, "/v1/venues/{venue_id}", methods=["GET"], roles=ADMINS, responds={200: "Venue"},
       errors=[errors.OUTSIDE_PROVINCE])
def read_venue(venue_id: str, caller: Principal) -> dict[str, Any]:
    """A venue of my province"""
    return venues.read(caller, venue_id)


@route(bp, "/v1/venues/{venue_id}", methods=["PATCH"], roles=ADMINS, body=VenueChange, responds={200: "Venue"},
       errors=[errors.OUTSIDE_PROVINCE, errors.CONCURRENT_UPDATE], example={"active": False})
def change_venue(venue_id: str, caller: Principal, body: VenueChange) -> dict[str, Any]:
    """Change a venue's name, address, type or capacity, or deactivate it (`active: false`)"""
    return venues.change(caller, venue_id, {name: getattr(body, name) for name in body.model_fields_set})


@route(bp, "/v1/venues/{venue_id}/token", methods=["POST"], roles=ADMINS, responds={200: "Venue"},
       errors=[errors.OUTSIDE_PROVINCE, errors.CONCURRENT_UPDATE])
def rotate_token(venue_id: str, caller: Principal) -> dict[str, Any]:
    """A new venue token (print the new poster): every earlier token of the venue is refused from now on"""
    return venues.rotate(caller, venue_id)


def _base_path(path: str) -> str:
    """The app's base path as the client reached it (API Gateway's stage prefix, or none), for the poster's URL."""
    request = bp.current_request
    reached = (request.context or {}).get("path") or path
    return reached[:-len(path)] if reached.endswith(path) else ""


def _poster(venue_id: str, caller: Principal, fmt: str) -> Response:
    from chalicelib.services import venue_posters  # drawing is on no other path

    venue = venues.poster_of(caller, venue_id)
    host = bp.current_request.headers.get("host") or "localhost"
    proto = bp.current_request.headers.get("x-forwarded-proto") or ("http" if host.startswith(("127.0.0.1",
                                                                                           "localhost")) else "https")
    base = f"{proto}://{host}{_base_path(f'/v1/venues/{venue_id}/poster.{fmt}')}/"
    body, content_type = venue_posters.render(venue, base + venues.scan_path(venue.token), fmt)
    return Response(body=body, status_code=200, headers={"Content-Type": content_type, **NO_STORE})


@route(bp, "/v1/venues/{venue_id}/poster.svg", methods=["GET"], roles=ADMINS,
       responds={200: {"image/svg+xml": {"type": "string"}}}, errors=[errors.OUTSIDE_PROVINCE])
def poster_svg(venue_id: str, caller: Principal) -> Response:
    """The printable poster: the venue's name, its QR (a URL into the web client's scan page) and venue number"""
    return _poster(venue_id, caller, "svg")


@route(bp, "/v1/venues/{venue_id}/poster.png", methods=["GET"], roles=ADMINS,
       responds={200: {"image/png": {"type": "string", "contentMediaType": "image/png"}}},
       errors=[errors.BAD_REQUEST, errors.OUTSIDE_PROVINCE])
def poster_png(venue_id: str, caller: Principal) -> Response:
    """The poster as a PNG (send `Accept: image/png`): the QR and the venue number"""
    return _poster(venue_id, caller, "png")


@route(bp, "/v1/visits", methods=["POST"], roles=[Role.CITIZEN], body=VisitRequest,
       responds={200: "VenuePass", 201: "VenuePass"}, limits=[VISITS],
       errors=[errors.INVALID_VENUE_TOKEN, errors.VENUE_TOKEN_REVOKED, errors.VENUE_INACTIVE, errors.UNKNOWN_VENUE,
               errors.NO_CODE, errors.UNKNOWN_DEPENDANT, errors.CONCURRENT_UPDATE],
       example={"venue_number": "12345674"})
def visit(caller: Principal, body: VisitRequest) -> tuple[int, dict[str, Any]]:
    """Record my visit to a venue (201; 200 when I scanned it in the last 5 minutes already), and that of each
    family member in `members`, and get the pass screen's data: my live color, the venue, the time, my masked name,
    and one card per member"""
    shown = venues.visit(caller, body.venue_token, body.venue_number, body.members)
    return (201 if shown["recorded"] else 200), shown


@route(bp, "/v1/venue-exposures", methods=["POST"], roles=[Role.HEALTH_AUTHORITY], body=ExposureRequest,
       responds={201: "VenueExposure"}, errors=[errors.UNKNOWN_VENUE, errors.OUTSIDE_PROVINCE,
                                                errors.CONCURRENT_UPDATE],
       example={"venue_id": "ven_0123456789ab", "from": 1795840000, "to": 1795843600, "case_type": "confirmed"})
def publish_exposure(caller: Principal, body: ExposureRequest) -> dict[str, Any]:
    """Publish that a case was at a venue of my province from `from` to `to`: everyone who visited then (30
    minutes' buffer each side) gets a reason"""
    return venues.publish_exposure(caller, body.venue_id, body.start, body.end, body.case_type)


@route(bp, "/v1/venues/{venue_id}/visits", methods=["GET"], roles=[Role.HEALTH_AUTHORITY], query=VisitorsQuery,
       responds={200: "VenueVisits"}, errors=[errors.OUTSIDE_PROVINCE])
def venue_visits(venue_id: str, caller: Principal, query: VisitorsQuery) -> dict[str, Any]:
    """Who visited a venue of my province in a window of at most 24 hours, a page at a time (ordered by shard, not
    by time): the masked list; each listed person's access log records it. Counts: the venue's stats"""
    return venues.visitors(caller, venue_id, query.start, query.end, query.limit, query.cursor)


@route(bp, "/v1/venues/{venue_id}/stats", methods=["GET"], roles=ADMINS, query=StatsQuery,
       responds={200: "VenueStats"}, errors=[errors.OUTSIDE_PROVINCE])
def venue_stats(venue_id: str, caller: Principal, query: StatsQuery) -> dict[str, Any]:
    """Visits per hour of a day: counts only, nothing about any person"""
    day: dt.date | None = query.date
    return venues.stats(caller, venue_id, day)
