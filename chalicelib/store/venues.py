"""The venues table: venues, their human numbers, and the visits recorded at each, sharded by venue.

- a venue: `pk = venue#<venue id>`, `sk = venue`, with `province` and `venue_id` for the sparse
  `by_province` index (only venue items carry `province`), a `version` for conditional updates, and the
  venue exposures published in the last EXPOSURES_KEPT_DAYS (`exposures`, a short list: a person's
  assessment reads them with the venue, one BatchGetItem for every venue the person visited);
- a venue number: `pk = number#<8 digits>`, `sk = venue`, naming the venue (written with it, conditionally,
  so two venues never share a number);
- a visit: `pk = visits#<venue id>#<shard>`, `sk = <5-minute bucket, 10 digits>#<person>`. The key is the
  dedup: one conditional put per person, venue and bucket. A station with 100,000 scans a day (1,000 in its
  busiest minute) spreads over VISIT_SHARDS partitions by a hash of the person, so no partition takes more
  than ~1,000/16 ≈ 60 writes a minute; a tracer's window reads each shard's range of buckets.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.exposures import CaseType
from chalicelib.domain.venues import VenueExposure, VenueType
from chalicelib.store import dynamo, visits
from chalicelib.store.held import Held, held
from chalicelib.store.pages import Key, KeyShape

KIND = "venues"
PROVINCE_INDEX = "by_province"
VISIT_SHARDS = 16
EXPOSURES_KEPT_DAYS = 30
VISIT_KEEP_DAYS = 30        # as trips and check-ins: a little past the 14-day window, for a late exposure


@dataclass(frozen=True, slots=True)
class Venue:
    venue_id: str
    number: str
    name: str
    county: str
    province: str
    address: str
    type: VenueType
    capacity: int | None
    active: bool
    generation: int           # the token generation in force; a rotation increments it
    token: str                # the current venue token (its generation's)
    token_expires_at: int
    created_by: str           # the client that registered it
    created_at: int
    updated_at: int
    version: int
    exposures: tuple[VenueExposure, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedVisit:
    venue_id: str
    person: str
    at: int
    name_masked: str
    id_last4: str


def _venue_key(venue_id: str) -> dict[str, str]:
    return {"pk": f"venue#{venue_id}", "sk": "venue"}


def _exposure_item(e: VenueExposure) -> dict[str, Any]:
    return {"exposure_id": e.exposure_id, "from": e.start, "to": e.end, "case_type": e.case_type.value,
            "published_at": e.published_at, "province": e.province}


def _venue(item: dict[str, Any]) -> Venue:
    exposures = tuple(VenueExposure(x["exposure_id"], item["venue_id"], item["name"], int(x["from"]), int(x["to"]),
                                    CaseType(x["case_type"]), int(x["published_at"]), x.get("province"))
                      for x in item.get("exposures") or ())
    capacity = item.get("capacity")
    return Venue(item["venue_id"], item["number"], item["name"], item["county"], item["province"],
                 item.get("address") or "", VenueType(item["type"]), int(capacity) if capacity is not None else None,
                 bool(item["active"]), int(item["generation"]), item["token"], int(item["token_expires_at"]),
                 item["created_by"], int(item["created_at"]), int(item["updated_at"]), int(item["version"]),
                 exposures)


def _item(venue: Venue) -> dict[str, Any]:
    v = venue
    return {**_venue_key(v.venue_id), "venue_id": v.venue_id, "number": v.number, "name": v.name,
            "county": v.county, "province": v.province, "address": v.address, "type": v.type.value,
            "capacity": v.capacity, "active": v.active, "generation": v.generation, "token": v.token,
            "token_expires_at": v.token_expires_at, "created_by": v.created_by, "created_at": v.created_at,
            "updated_at": v.updated_at, "version": v.version,
            "exposures": [_exposure_item(e) for e in v.exposures]}


def create(venue: Venue) -> None:
    """The venue and its number, in one transaction; ConditionFailed if either exists (a number taken)."""
    dynamo.transact([
        dynamo.put_op(KIND, _item(venue), condition="attribute_not_exists(pk)"),
        dynamo.put_op(KIND, {"pk": f"number#{venue.number}", "sk": "venue", "venue_id": venue.venue_id},
                      condition="attribute_not_exists(pk)")])


def get(venue_id: str, consistent: bool = False) -> Venue | None:
    item = dynamo.get(KIND, _venue_key(venue_id), consistent=consistent)
    return _venue(item) if item else None


def many(venue_ids: set[str]) -> dict[str, Venue]:
    """The venues of these ids that exist (one BatchGetItem per 100)."""
    if not venue_ids:
        return {}
    found = dynamo.batch_get(KIND, [_venue_key(v) for v in sorted(venue_ids)])
    return {item["venue_id"]: _venue(item) for item in found}


def by_number(number: str) -> str | None:
    item = dynamo.get(KIND, {"pk": f"number#{number}", "sk": "venue"})
    return item["venue_id"] if item else None


def save(venue: Venue, expected_version: int, event_op: dict[str, Any] | None = None) -> None:
    """A new version of the venue (its `version` one more), if nobody wrote since `expected_version`; with the
    event that tells of it, in one transaction. ConditionFailed otherwise."""
    if event_op is None:
        dynamo.put(KIND, _item(venue), condition="version = :v", values={":v": expected_version})
    else:
        dynamo.transact([dynamo.put_op(KIND, _item(venue), condition="version = :v",
                                       values={":v": expected_version}), event_op])


def pages(province: str) -> KeyShape:
    return KeyShape("province", province, {"pk": re.compile(r"venue#ven_[0-9a-f]{12}"), "sk": re.compile("venue"),
                                           "venue_id": re.compile(r"ven_[0-9a-f]{12}")})


def page(province: str, limit: int, start: Key | None) -> tuple[list[Venue], Key | None]:
    """One page of a province's venues, by id."""
    items, last = dynamo.query(KIND, "province = :p", {":p": province}, index=PROVINCE_INDEX, limit=limit,
                               start=start)
    return [_venue(i) for i in items], last


# --- visits -------------------------------------------------------------------------------------------------------

def shard_of(person: str) -> int:
    return zlib.crc32(person.encode()) % VISIT_SHARDS


def visit_op(visit: RecordedVisit, bucket: int) -> dict[str, Any]:
    """The conditional Put of a visit: it fails if the person has a visit of this venue in this bucket already."""
    v = visit
    return dynamo.put_op(KIND, {"pk": f"visits#{v.venue_id}#{shard_of(v.person)}", "sk": f"{bucket:010d}#{v.person}",
                                "person": v.person, "at": v.at, "name_masked": v.name_masked,
                                "id_last4": v.id_last4, "expires_at": v.at + VISIT_KEEP_DAYS * 86400},
                         condition="attribute_not_exists(pk)", return_old=True)


def record_visit(visit: RecordedVisit, bucket: int, stay: visits.Stay) -> RecordedVisit | None:
    """The visit and the person's stay in the venue's county, in one transaction: None when recorded, or the
    visit the person already has of this venue in this bucket (then nothing is written)."""
    for attempt in range(3):
        try:
            dynamo.transact([visit_op(visit, bucket), visits.put_op(stay)])
            return None
        except dynamo.TransactionConflict:
            # the same person's two scans at the same moment (a double tap): the next try finds the first one's
            if attempt == 2:
                raise
        except dynamo.ConditionFailed as lost:
            item = lost.failed.get(0)
            if not item:
                raise
            return RecordedVisit(visit.venue_id, item["person"], int(item["at"]), item.get("name_masked") or "",
                                 item.get("id_last4") or "")
    return None


def visits_page(venue_id: str, shard: int, first_bucket: int, last_bucket: int, limit: int,
                start: Key | None) -> tuple[list[RecordedVisit], Key | None]:
    """One page of a shard's visits whose bucket is in [first_bucket, last_bucket], oldest first."""
    items, last = dynamo.query(KIND, "pk = :p AND sk BETWEEN :lo AND :hi",
                               {":p": f"visits#{venue_id}#{shard}", ":lo": f"{first_bucket:010d}#",
                                ":hi": f"{last_bucket:010d}#~"}, limit=limit, start=start)
    return [RecordedVisit(venue_id, i["person"], int(i["at"]), i.get("name_masked") or "", i.get("id_last4") or "")
            for i in items], last


def visits_between(venue_id: str, first_bucket: int, last_bucket: int, now: int) -> list[RecordedVisit]:
    """Every live visit of the venue in the buckets' range, from all shards, oldest first."""
    found: list[RecordedVisit] = []
    for shard in range(VISIT_SHARDS):
        start: Key | None = None
        while True:
            page_, start = visits_page(venue_id, shard, first_bucket, last_bucket, 1000, start)
            found += page_
            if start is None:
                break
    return sorted((v for v in found if v.at + VISIT_KEEP_DAYS * 86400 > now), key=lambda v: (v.at, v.person))


# --- a person's visits (their own data view, an erasure) ----------------------------------------------------------

def _visit_key(person: str, ref: str) -> dict[str, str]:
    """The key of the visit a venue stay's `ref` (`<venue id>#<bucket>`, services/venues.py) names."""
    venue_id, bucket = ref.rsplit("#", 1)
    return {"pk": f"visits#{venue_id}#{shard_of(person)}", "sk": f"{int(bucket):010d}#{person}"}


def visits_of(person: str, refs: list[str]) -> list[dict[str, Any]]:
    """The person's visit items the refs of their venue stays name (one BatchGetItem per 100), each with its
    `venue_id`: found from the person's own stays, so no venue is read but those they visited."""
    found = dynamo.batch_get(KIND, [_visit_key(person, ref) for ref in sorted(set(refs))], consistent=True)
    return [{**item, "venue_id": item["pk"].split("#")[1]} for item in found]


def erase_visit_ops(person: str, refs: list[str]) -> list[dict[str, Any]]:
    """The Deletes of the person's visits that still exist (an erasure: run before their stays go)."""
    return [dynamo.delete_op(KIND, {"pk": i["pk"], "sk": i["sk"]}) for i in visits_of(person, refs)]


def held_of(person: str, refs: list[str]) -> list[Held]:
    return [held("venue_visits", i, "at", drop=("person",)) for i in visits_of(person, refs)]
