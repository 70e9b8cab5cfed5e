"""Venue codes (docs/venues.md): register and manage venues, record citizens' visits, and trace who was there.

Who may do what:
- a province's health authority or venue administration client registers, lists, changes, deactivates and
  rotates the token of its own province's venues, and sees a venue's visits per hour;
- a citizen records a visit (scanning the poster's token, or typing the venue number), and a guardian's visit
  records the dependants listed in `members` too, each on their own card;
- a province's health authority publishes a venue exposure and reads a venue's visitors (masked) for a window,
  each listed visitor's access log recording it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from chalicelib import clock
from chalicelib.domain import days, divisions, venues as rules
from chalicelib.domain.exposures import CaseType
from chalicelib.domain.remit import Basis, Connection
from chalicelib.domain.stays import decode_stays
from chalicelib.domain.venues import VenueExposure, VenueType
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.security import pseudonyms, venue_tokens
from chalicelib.security.access import Principal, Role
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.services import access_log, assessment, codes, cursors, guardians as guarded
from chalicelib.services.versioned import retried, versioned_update
from chalicelib.store import dynamo, events, guardians, people, venues, visits
from chalicelib.store.venues import Venue

STAY_SOURCE = assessment.VENUE_STAY
STAY_RETENTION_DAYS = 30     # as trips and check-ins (services/trips.py)
PUBLISH_WINDOW_DAYS = 14     # a venue exposure concerns visits of the last 14 days, as the rules do
ADMINS = (Role.HEALTH_AUTHORITY, Role.VENUE_ADMIN)


def public(venue: Venue) -> dict[str, Any]:
    """A venue as its province's administrators see it, with the current token and the path of its scan page."""
    return {"venue_id": venue.venue_id, "number": venue.number, "name": venue.name, "county": venue.county,
            "county_name": divisions.name_of(venue.county), "province": venue.province, "address": venue.address,
            "type": venue.type.value, "capacity": venue.capacity, "active": venue.active,
            "token": venue.token, "token_generation": venue.generation, "token_expires_at": venue.token_expires_at,
            "scan_path": scan_path(venue.token), "created_by": venue.created_by, "created_at": venue.created_at,
            "updated_at": venue.updated_at}


def scan_path(token: str) -> str:
    """Where a poster's QR leads, relative to the app's base: the token rides in the fragment, which browsers
    never send, so it stays out of every server's and proxy's logs."""
    return f"venue#{token}"


def _own(principal: Principal, venue_id: str, consistent: bool = False) -> Venue:
    venue = venues.get(venue_id, consistent=consistent) if rules.is_venue_id(venue_id) else None
    if venue is None:
        raise NotFound("No such venue.", code="unknown_venue")
    if principal.province != venue.province:
        raise Forbidden("This venue belongs to another province.", code="outside_province",
                        details=[{"province": venue.province}])
    return venue


def register(principal: Principal, name: str, county: str, address: str, kind: VenueType,
             capacity: int | None) -> dict[str, Any]:
    if not divisions.is_division(county) or county.endswith("00"):
        raise field_error("county", "must be a GB/T 2260 county-level code (not a province or prefecture)")
    if divisions.province_of(county) != principal.province:
        raise Forbidden("A venue is registered by its own province.", code="outside_province",
                        details=[{"province": divisions.province_of(county)}])
    now = clock.now()
    for _ in range(5):
        venue_id = "ven_" + secrets.token_hex(6)
        token, expires = venue_tokens.issue(venue_id, 1, now)
        venue = Venue(venue_id, rules.venue_number(secrets.randbelow(10 ** 7)), name, county, county[:2], address,
                      kind, capacity, True, 1, token, expires, principal.subject, now, now, 1)
        try:
            venues.create(venue)
        except dynamo.ConditionFailed:
            continue     # the number (or, once in 2^48, the id) is taken: draw again
        return public(venue)
    raise RuntimeError("could not allocate a venue number")


def listed(principal: Principal, limit: int, cursor: str | None) -> dict[str, Any]:
    assert principal.province is not None    # admin clients always have one (services/sessions.py)
    found, last = venues.page(principal.province, limit, cursors.decode(cursor, venues.pages(principal.province)))
    return {"venues": [public(v) for v in found], "next_cursor": cursors.encode(last)}


def read(principal: Principal, venue_id: str) -> dict[str, Any]:
    return public(_own(principal, venue_id))


def _update(principal: Principal, venue_id: str, change: Any) -> Venue:
    def load() -> Venue:
        return _own(principal, venue_id, consistent=True)

    def save(current: Venue, new: Venue) -> Venue:
        venues.save(new, current.version)
        return new

    return versioned_update(load, change, save, "The venue")


def change(principal: Principal, venue_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Name, address, type, capacity; `active: false` deactivates (every scan of it is then refused), `true`
    brings it back."""
    now = clock.now()

    def changed(current: Venue) -> Venue:
        return dataclasses.replace(current, **fields, updated_at=now, version=current.version + 1)

    return public(_update(principal, venue_id, changed))


def rotate(principal: Principal, venue_id: str) -> dict[str, Any]:
    """A new token of the next generation: every earlier token of the venue is refused from now on."""
    now = clock.now()

    def rotated(current: Venue) -> Venue:
        token, expires = venue_tokens.issue(current.venue_id, current.generation + 1, now)
        return dataclasses.replace(current, generation=current.generation + 1, token=token, token_expires_at=expires,
                                   updated_at=now, version=current.version + 1)

    return public(_update(principal, venue_id, rotated))


def poster_of(principal: Principal, venue_id: str) -> Venue:
    return _own(principal, venue_id)


# --- visits -------------------------------------------------------------------------------------------------------

def _scanned(token: str | None, number: str | None, now: int) -> Venue:
    """The venue a scan names, if it may be visited now: refused with the reason otherwise."""
    generation = None
    if token is not None:
        try:
            venue_id, generation = venue_tokens.verify(token, now)
        except TokenRejected as rejected:
            raise ValidationFailed(rejected.message, [{"field": "venue_token", "reason": rejected.reason,
                                                     "message": rejected.message}],
                                   code="invalid_venue_token") from None
    else:
        assert number is not None
        if not rules.is_venue_number(number):
            raise field_error("venue_number", "not a venue number: 8 digits, the last a check digit", "venue_number")
        found = venues.by_number(number)
        if found is None:
            raise NotFound("No venue has this number.", code="unknown_venue")
        venue_id = found
    venue = venues.get(venue_id)
    if venue is None:
        raise NotFound("No such venue.", code="unknown_venue")
    if generation is not None and generation != venue.generation:
        raise ValidationFailed("This venue code was replaced by a newer one; scan the venue's current poster.",
                               [{"field": "venue_token", "reason": "revoked", "message": "replaced by a newer one"}],
                               code="venue_token_revoked")
    if not venue.active:
        raise Forbidden("This venue is closed for scanning.", code="venue_inactive")
    return venue


def _stays_today(code: people.Code, county: str, now: int) -> bool:
    today = days.today(now)
    return any(v.area == county and v.day == today for v in decode_stays(code.facts.stays))


def _record(person: str, code: people.Code, venue: Venue, now: int, guardian_id: str | None = None
            ) -> tuple[bool, int, people.Code]:
    """Record one person's visit (once per person, venue and 5 minutes) and its stay: (recorded, when the visit of
    this bucket was recorded, the code as it stands). `guardian_id` when a guardian recorded it for a dependant."""
    bucket = rules.bucket(now)
    day = days.today(now)
    stay = visits.Stay(person, day, venue.county, STAY_SOURCE, f"{venue.venue_id}#{bucket}", now,
                       days.start_of(day) + STAY_RETENTION_DAYS * days.DAY)
    recording = venues.RecordedVisit(venue.venue_id, person, now, code.name_masked, code.id_last4, guardian_id)
    # The transaction is cancelled (TransactionConflict) when another one writes one of its items at the same
    # instant: another visit of the venue's shard and hour (their counter), or this person's double tap (the
    # next try finds the first tap's visit). The platform's one retry policy tries it again, at most ATTEMPTS
    # times, then answers 409 concurrent_update; a condition that fails (a visit already) is an answer, not a loss.
    first = retried(lambda: venues.record_visit(recording, bucket, stay), "The venue's visit count")
    recorded = first is None
    # The code keeps its stays (areas and days) for reads to judge against area levels: only a visit to a county
    # it has no stay in today changes them, and only a visit inside a published exposure's window adds a reason.
    # Every other visit (most of them) writes the visit and the stay and nothing else.
    if recorded and (not _stays_today(code, venue.county, now) or any(e.covers(now) for e in venue.exposures)):
        refreshed, _ = assessment.refresh(person, now, "venue_visit",
                                          actor="citizen" if guardian_id is None else "guardian")
        code = refreshed or code
    return recorded, now if first is None else first.at, code


def _members(principal: Principal, members: list[str]) -> list[guardians.Link]:
    """The caller's live links to the listed dependants, in the order listed (one Query of the caller's links);
    refused, naming the first index, when one names no dependant of the caller's."""
    if not members:
        return []
    links = {link.dependant_id: link for link in guardians.dependants(principal.subject)}
    for index, dependant_id in enumerate(members):
        if dependant_id not in links:
            raise NotFound(f"members[{index}] names no dependant of yours.", code="unknown_dependant",
                           details=[{"field": f"members[{index}]", "index": index, "dependant_id": dependant_id}])
    return [links[dependant_id] for dependant_id in members]


def _card(code: people.Code, recorded: bool, visited_at: int, now: int) -> dict[str, Any]:
    """One person's part of the pass: their own live color, as GET /v1/codes/me, and whether this scan recorded them."""
    shown = codes.view(code, now)
    return {"recorded": recorded, "visited_at": visited_at, "color": shown["color"], "reasons": shown["reasons"],
            "name_masked": code.name_masked, "id_last4": code.id_last4, "status": code.status}


def visit(principal: Principal, token: str | None, number: str | None, members: list[str] | None = None
          ) -> dict[str, Any]:
    """Record a visit (once per person, venue and 5 minutes) for the caller and each listed dependant, and answer
    the pass screen's data: for each person the live color, the time and the masked name; and the venue.

    The caller's visit is the request's: refusals about the venue, the caller's own code or a listed id (not a
    dependant of the caller's) refuse it all before anything is written. Each member's visit is then recorded on its
    own, like the caller's, and reported on the member's card: a dependant without a code is refused on the card
    (`refused: "no_code"`), not the scan."""
    now = clock.now()
    person = principal.subject
    venue = _scanned(token, number, now)
    code = people.get(pseudonyms.code_id(person), consistent=True)
    if code is None:
        raise NotFound("You have no health code yet; apply with POST /v1/codes.", code="no_code")
    links = _members(principal, members or [])
    if links:
        # as every act of a guardian's: the dependants' access-log entries before their visits are written
        guarded.record_acts(principal, links, "POST /v1/visits",
                            {"venue_id": venue.venue_id, "venue_name": venue.name})
    recorded, visited_at, code = _record(person, code, venue, now)
    cards = []
    found = people.many(link.dependant_id for link in links) if links else {}
    guardian_id = pseudonyms.code_id(person)
    for link in links:
        card: dict[str, Any] = {"dependant_id": link.dependant_id, "relationship": link.relationship}
        theirs = found.get(link.dependant_id)
        if theirs is None:
            cards.append({**card, "recorded": False, "visited_at": None, "color": None, "reasons": [],
                          "name_masked": link.name_masked, "id_last4": link.id_last4, "status": None,
                          "refused": "no_code"})
            continue
        try:
            was, at, theirs = _record(link.dependant, theirs, venue, now, guardian_id)
        except Conflict as lost:       # 10 tries lost to other visits of the shard: this card says so, no other
            cards.append({**card, **_card(theirs, False, now, now), "visited_at": None,
                          "refused": lost.code})
            continue
        cards.append({**card, **_card(theirs, was, at, now), "refused": None})
    return {**_card(code, recorded, visited_at, now), "checked_at": now,
            "venue": {"venue_id": venue.venue_id, "name": venue.name, "number": venue.number,
                      "county": venue.county, "county_name": divisions.name_of(venue.county),
                      "type": venue.type.value},
            "members": cards}


# --- tracing ------------------------------------------------------------------------------------------------------

def _window(start: int, end: int, now: int) -> None:
    if end <= start:
        raise field_error("to", "must be after from", "window")
    if end - start > rules.MAX_EXPOSURE_SECONDS:
        raise field_error("to", "a window covers at most 24 hours: publish a longer stay day by day", "window")
    if end > now + 3600:
        raise field_error("to", "must not be in the future", "window")
    if start < now - PUBLISH_WINDOW_DAYS * days.DAY:
        raise field_error("from", f"must be within the last {PUBLISH_WINDOW_DAYS} days", "window")


def public_exposure(exposure: VenueExposure, venue: Venue) -> dict[str, Any]:
    return {"exposure_id": exposure.exposure_id, "venue_id": venue.venue_id, "venue_name": venue.name,
            "venue_number": venue.number, "county": venue.county, "from": exposure.start, "to": exposure.end,
            "buffer_seconds": rules.EXPOSURE_BUFFER_SECONDS, "case_type": exposure.case_type.value,
            "province": exposure.province, "published_at": exposure.published_at}


def publish_exposure(principal: Principal, venue_id: str, start: int, end: int, case_type: CaseType
                     ) -> dict[str, Any]:
    """Record the exposure on the venue and its `venue.exposure_published` event in one transaction; the event's
    units (events/fanout.py) recompute each visitor of the window, never inside this request."""
    now = clock.now()
    _window(start, end, now)
    exposure_id = "vex_" + secrets.token_hex(6)
    published: dict[str, Any] = {}

    def load() -> Venue:
        return _own(principal, venue_id, consistent=True)

    def changed(current: Venue) -> Venue:
        exposure = VenueExposure(exposure_id, current.venue_id, current.name, start, end, case_type, now,
                                 principal.province)
        kept = tuple(e for e in current.exposures
                     if e.published_at > now - venues.EXPOSURES_KEPT_DAYS * days.DAY)
        published.update(public_exposure(exposure, current))
        return dataclasses.replace(current, exposures=(*kept, exposure), updated_at=now, version=current.version + 1)

    def save(current: Venue, new: Venue) -> Venue:
        venues.save(new, current.version, events.put_op(
            "venue.exposure_published", {**published, "set_by": principal.subject}, now))
        return new

    versioned_update(load, changed, save, "The venue")
    return published


def visitors(principal: Principal, venue_id: str, start: int, end: int, limit: int,
             cursor: str | None) -> dict[str, Any]:
    """One page of who visited in [start, end] (at most 24 hours): at most `limit` visits read, walking the 16
    shards in order from the cursor, so a page costs the same whatever the venue's traffic; masked, ordered by
    shard then 5-minute bucket. Each listed person's access log records the query before the answer leaves."""
    now = clock.now()
    if end <= start or end - start > rules.MAX_EXPOSURE_SECONDS:
        raise field_error("to", "must be after from, and at most 24 hours after it", "window")
    venue = _own(principal, venue_id)
    first, last = rules.bucket(start), rules.bucket(end)
    page, after = venues.visitors_page(venue.venue_id, first, last, limit,
                                       cursors.decode(cursor, venues.visitors_pages(venue.venue_id, first, last)))
    listed = [v for v in page if start <= v.at <= end and v.at + venues.VISIT_KEEP_DAYS * days.DAY > now]
    basis = Basis(connection=Connection.STAY)
    entries = [access_log.entry(v.person, principal, "venue_visits", basis,
                                {"venue_id": venue.venue_id, "venue_name": venue.name, "visited_at": v.at,
                                 "name_masked": v.name_masked, "id_last4": v.id_last4}, now, ref=venue.venue_id)
               for v in {v.person: v for v in reversed(listed)}.values()]
    access_log.write(entries)
    return {"venue_id": venue.venue_id, "from": start, "to": end,
            "list": [{"visited_at": v.at, "name_masked": v.name_masked, "id_last4": v.id_last4} for v in listed],
            "next_cursor": cursors.encode(after)}


def stats(principal: Principal, venue_id: str, day: dt.date | None) -> dict[str, Any]:
    """Visits per hour (China Standard Time) of one day: counts only, nothing about any person."""
    now = clock.now()
    day = day or days.today(now)
    venue = _own(principal, venue_id)
    start = days.start_of(day)
    # the counters of the day's hours (one Query per shard), never the visits: counts name nobody
    found = venues.counts(venue.venue_id, start, start + days.DAY - 3600)
    counts = [found.get(start + hour * 3600, 0) for hour in range(24)]
    return {"venue_id": venue.venue_id, "date": day.isoformat(), "total": sum(counts),
            "hours": [{"hour": hour, "visits": n} for hour, n in enumerate(counts)]}
