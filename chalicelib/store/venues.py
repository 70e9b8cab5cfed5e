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
  than ~1,000/16 ≈ 60 writes a minute; a tracer's window reads each shard's range of buckets, a page at a time;
- a visit counter: `pk = counts#<venue id>#<shard>`, `sk = <hour start, 10 digits>`, `visits` (a number): the
  visits recorded in that shard and hour, added to in the visit's own transaction (so a counted visit is exactly a
  recorded one), kept as long as the visits. Counts name nobody: the stats read these, never the visits, and an
  erased visit leaves its count as it was.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.exposures import CaseType
from chalicelib.domain.venues import VISIT_BUCKET_SECONDS, VenueExposure, VenueType
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
    guardian_id: str | None = None     # the guardian's code id, when a guardian recorded a dependant's visit


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
                                "id_last4": v.id_last4, "expires_at": v.at + VISIT_KEEP_DAYS * 86400,
                                **({"guardian_id": v.guardian_id} if v.guardian_id else {})},
                         condition="attribute_not_exists(pk)", return_old=True)


def hour_of(at: int) -> int:
    return at - at % 3600


def count_op(visit: RecordedVisit) -> dict[str, Any]:
    """One more visit on the counter of the visit's venue, shard and hour (each counter takes 1/16 of the venue's
    rate, as its visits do)."""
    v = visit
    return dynamo.update_op(KIND, {"pk": f"counts#{v.venue_id}#{shard_of(v.person)}", "sk": f"{hour_of(v.at):010d}"},
                            "ADD visits :one SET expires_at = if_not_exists(expires_at, :expires)",
                            {":one": 1, ":expires": hour_of(v.at) + 3600 + VISIT_KEEP_DAYS * 86400})


def record_visit(visit: RecordedVisit, bucket: int, stay: visits.Stay) -> RecordedVisit | None:
    """The visit, its count and the person's stay in the venue's county, in one transaction: None when recorded, or
    the visit the person already has of this venue in this bucket (then nothing is written, nothing counted).
    Raises TransactionConflict when another transaction was writing one of the items (another visit of the same
    shard and hour at the same instant, or the same person's double tap): the caller tries again."""
    try:
        dynamo.transact([visit_op(visit, bucket), count_op(visit), visits.put_op(stay)])
        return None
    except dynamo.ConditionFailed as lost:
        item = lost.failed.get(0)
        if not item:
            raise
        return RecordedVisit(visit.venue_id, item["person"], int(item["at"]), item.get("name_masked") or "",
                             item.get("id_last4") or "", item.get("guardian_id"))


def visits_page(venue_id: str, shard: int, first_bucket: int, last_bucket: int, limit: int,
                start: Key | None) -> tuple[list[RecordedVisit], Key | None]:
    """One page of a shard's visits whose bucket is in [first_bucket, last_bucket], oldest first."""
    items, last = dynamo.query(KIND, "pk = :p AND sk BETWEEN :lo AND :hi",
                               {":p": f"visits#{venue_id}#{shard}", ":lo": f"{first_bucket:010d}#",
                                ":hi": f"{last_bucket:010d}#~"}, limit=limit, start=start)
    return [RecordedVisit(venue_id, i["person"], int(i["at"]), i.get("name_masked") or "", i.get("id_last4") or "",
                          i.get("guardian_id")) for i in items], last


def visitors_pages(venue_id: str, first_bucket: int, last_bucket: int) -> KeyShape:
    """The start keys a venue's visitors pages accept: a shard's visit key within the window's buckets (where the
    shard's last page ended, or `<first bucket>#`, before any visit, to start the next shard), bound to the venue.
    A key outside the window's buckets would fail DynamoDB's key condition (a 500), so it does not fit."""
    buckets = "|".join(f"{b:010d}" for b in range(first_bucket, last_bucket + 1, VISIT_BUCKET_SECONDS))
    shards = "|".join(str(shard) for shard in range(VISIT_SHARDS))
    return KeyShape("venue", venue_id, {"pk": re.compile(re.escape(f"visits#{venue_id}#") + f"(?:{shards})"),
                                        "sk": re.compile(rf"(?:{buckets})#[0-9a-f]{{32}}|{first_bucket:010d}#")})


def visitors_page(venue_id: str, first_bucket: int, last_bucket: int, limit: int, start: Key | None
                  ) -> tuple[list[RecordedVisit], Key | None]:
    """At most `limit` visits of the venue in the buckets' range, walking the shards in order from `start` (a key
    `visitors_pages` fits, or None for shard 0's first), each shard oldest first: one Query per shard touched, its
    `Limit` what the page still needs. The key to start the next page from, or None after the last shard's last.
    The visits are as stored: the caller keeps those inside its window and not past their expiry."""
    shard, exclusive = 0, None
    if start is not None:
        shard, exclusive = int(start["pk"].rsplit("#", 1)[1]), {"pk": start["pk"], "sk": start["sk"]}
    found: list[RecordedVisit] = []
    read = 0
    while True:
        page_, last = visits_page(venue_id, shard, first_bucket, last_bucket, limit - read, exclusive)
        read += len(page_)
        found += page_
        if last is None:
            if shard == VISIT_SHARDS - 1:
                return found, None
            shard, exclusive = shard + 1, None
            if read >= limit:
                return found, {"venue": venue_id, "pk": f"visits#{venue_id}#{shard}", "sk": f"{first_bucket:010d}#"}
        else:
            exclusive = last
            if read >= limit:
                return found, {"venue": venue_id, **last}


def counts(venue_id: str, first_hour: int, last_hour: int) -> dict[int, int]:
    """The venue's visits per hour start in [first_hour, last_hour], summed over the shards' counters: one Query
    per shard (at most 24 small items for a day)."""
    found: dict[int, int] = {}
    for shard in range(VISIT_SHARDS):
        for item in dynamo.query_all(KIND, "pk = :p AND sk BETWEEN :lo AND :hi",
                                     {":p": f"counts#{venue_id}#{shard}", ":lo": f"{first_hour:010d}",
                                      ":hi": f"{last_hour:010d}"}):
            found[int(item["sk"])] = found.get(int(item["sk"]), 0) + int(item["visits"])
    return found


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
