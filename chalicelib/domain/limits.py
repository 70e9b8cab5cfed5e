"""Abuse limits: every rate limit the API enforces, as data, in one place.

docs/limits.md's table is `table()` of these (tests/test_limits.py fails while they differ), and the
OpenAPI document gives every operation a limit names its 429 response (chalicelib/api/openapi.py).
services/throttle.py enforces them: a fixed window per (limit, key), one UpdateItem on the ratelimits
table per counted request, except the verifications' limit, which a container counts itself and
writes every `flush_every` requests (the verify hot path stays one DynamoDB round trip).

The numbers are set for real use with room to spare, not for an average citizen: a family or an office
behind one address, a carrier's NAT, a station gate at rush hour, a province pushing 500-record batches
in an outbreak. What each one costs and bounds is in docs/limits.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

MINUTE, HOUR = 60, 3600


class Per(str, Enum):
    """What a limit counts separately."""
    ADDRESS = "source address"          # API Gateway's requestContext.identity.sourceIp, stored as a keyed hash
    PERSON = "person"                   # the person reference (a citizen's token subject)
    CLIENT = "client"                   # a system client's id
    PROVINCE = "province"               # the calling client's province: all its clients together


@dataclass(frozen=True)
class Limit:
    name: str                          # the counter's bucket, and the limit's name in 429 details
    operations: tuple[str, ...]        # "METHOD /path" as routed
    per: Per
    count: int                         # at most this many ...
    window: int                        # ... in each fixed window of this many seconds (aligned to the clock)
    what: str                          # what is counted, plural, for messages and docs
    why: str                           # the real use the number leaves room for
    flush_every: int = 1               # >1: counted in the container, written to the table every this many

    def window_start(self, now: int) -> int:
        return now - now % self.window

    def retry_after(self, now: int) -> int:
        """Seconds until the window that holds `now` ends: when the next request is counted afresh."""
        return self.window_start(now) + self.window - now

    def describe(self) -> str:
        return f"at most {self.count:,} {self.what} {_per_window(self.window)} per {self.per.value}"


def _per_window(window: int) -> str:
    if window == MINUTE:
        return "a minute"
    if window == HOUR:
        return "an hour"
    return f"in {window} s"


# --- unauthenticated: per source address ----------------------------------------------------------------
SESSIONS_PER_ADDRESS = Limit(
    "sessions_per_address", ("POST /v1/sessions",), Per.ADDRESS, 600, MINUTE, "log-in requests",
    "a family, an office or a carrier's NAT behind one address: 10 a second")
TOKENS_PER_ADDRESS = Limit(
    "tokens_per_address", ("POST /v1/oauth/token",), Per.ADDRESS, 300, MINUTE, "token requests",
    "every gate of a large station behind one address, all switched on at once")
EXPOSURE_QUERIES_PER_ADDRESS = Limit(
    "exposure_queries_per_address", ("GET /v1/exposures",), Per.ADDRESS, 60, MINUTE, "co-passenger queries",
    "a household checking every leg of its trips")

# --- per citizen: the person reference -------------------------------------------------------------------
SESSIONS_PER_PERSON = Limit(
    "sessions_per_person", ("POST /v1/sessions",), Per.PERSON, 30, HOUR, "log-ins",
    "an access token lasts an hour: a few devices and family members' phones logging the same person in")
APPLIES_PER_PERSON = Limit(
    "applies_per_person", ("POST /v1/codes",), Per.PERSON, 30, HOUR, "applications",
    "applying once and updating the declaration as the day changes, with retries")
QR_TOKENS_PER_PERSON = Limit(
    "qr_tokens_per_person", ("GET /v1/codes/me/qr",), Per.PERSON, 30, MINUTE, "QR tokens",
    "a token lives 3 minutes; a phone refreshing it, in text and as an image, on two devices")
TRIPS_PER_PERSON = Limit(
    "trips_per_person", ("POST /v1/trips",), Per.PERSON, 100, HOUR, "trip declarations",
    "14 days of journeys entered at once, each leg a trip")
CHECKINS_PER_PERSON = Limit(
    "checkins_per_person", ("POST /v1/checkins",), Per.PERSON, 30, HOUR, "check-ins",
    "a daily check-in, repeated when a temperature is taken again")
CORRECTIONS_PER_PERSON = Limit(
    "corrections_per_person", ("POST /v1/corrections",), Per.PERSON, 10, HOUR, "correction requests",
    "at most 3 are open at once; a citizen re-filing after a decision")
DEPENDANTS_PER_PERSON = Limit(
    "dependants_per_person", ("POST /v1/me/dependants",), Per.PERSON, 10, HOUR, "dependants added",
    "at most 5 are held at once: a family's children and grandparents added, a mistyped one removed and added "
    "again")
PAPER_CODES_PER_PERSON = Limit(
    "paper_codes_per_person", ("POST /v1/paper-codes",), Per.PERSON, 5, HOUR, "paper codes printed",
    "counted for the holder, whoever prints it: a print, a misprint and a lost copy replaced; each lasts 14 days")
VISITS_PER_PERSON = Limit(
    "visits_per_person", ("POST /v1/visits",), Per.PERSON, 120, HOUR, "visits",
    "a commuter's bus, station, office, canteen and shops, each scanned again on the way out, with retries; a scan "
    "counts one for the caller and one for each family member on the pass")

# --- per system client and per province -------------------------------------------------------------------
TOKENS_PER_CLIENT = Limit(
    "tokens_per_client", ("POST /v1/oauth/token",), Per.CLIENT, 60, HOUR, "access tokens",
    "a token lasts 15 minutes: 4 an hour, and restarts; only tokens issued count, so a wrong secret "
    "sent by someone else never locks a client out")
VERIFICATIONS_PER_CHECKPOINT = Limit(
    "verifications_per_checkpoint", ("POST /v1/verifications", "POST /v1/verifications/batch"), Per.CLIENT, 3000,
    MINUTE, "verifications",
    "a station gate with several lanes at rush hour scans a few hundred a minute", flush_every=50)
SYNC_RECORDS_PER_PROVINCE = Limit(
    "sync_records_per_province", ("POST /v1/sync/local-codes", "POST /v1/sync/health-records",
                                  "POST /v1/sync/test-results", "POST /v1/sync/vaccinations"), Per.PROVINCE,
    30000, MINUTE, "records", "a 500-record batch every second, for a province re-pushing its codes in an outbreak")
LOOKUPS_PER_PROVINCE = Limit(
    "lookups_per_province", ("POST /v1/sync/lookups",), Per.PROVINCE, 6000, MINUTE, "people looked up",
    "the arrivals of several full trains a minute screened 100 at a time")

LIMITS: tuple[Limit, ...] = (
    SESSIONS_PER_ADDRESS, SESSIONS_PER_PERSON, TOKENS_PER_ADDRESS, TOKENS_PER_CLIENT, APPLIES_PER_PERSON,
    QR_TOKENS_PER_PERSON, TRIPS_PER_PERSON, CHECKINS_PER_PERSON, CORRECTIONS_PER_PERSON, DEPENDANTS_PER_PERSON,
    PAPER_CODES_PER_PERSON, VISITS_PER_PERSON,
    VERIFICATIONS_PER_CHECKPOINT, SYNC_RECORDS_PER_PROVINCE, LOOKUPS_PER_PROVINCE, EXPOSURE_QUERIES_PER_ADDRESS,
)


def on(method: str, path: str) -> list[Limit]:
    """The limits an operation counts against, in the order of LIMITS."""
    operation = f"{method.upper()} {path}"
    return [limit for limit in LIMITS if operation in limit.operations]


def cost(limit: Limit) -> str:
    if limit.flush_every > 1:
        return (f"one UpdateItem per {limit.flush_every} {limit.what} per container, sent alongside the "
                f"request's own call: no extra round trip")
    return "one UpdateItem per counted request" + (" (adding the batch's size)" if limit.per is Per.PROVINCE
                                                   else "")


def table() -> str:
    """The Markdown table of docs/limits.md."""
    rows = ["| limit | operation | counted per | at most | window | what it costs | leaves room for |",
            "|---|---|---|---|---|---|---|"]
    for limit in LIMITS:
        operations = ", ".join(f"`{o}`" for o in limit.operations)
        rows.append(f"| `{limit.name}` | {operations} | {limit.per.value} | {limit.count:,} {limit.what} | "
                    f"{_per_window(limit.window).removeprefix('in ')} | {cost(limit)} | {limit.why} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m chalicelib.domain.limits: the table to paste into docs/limits.md
    print(table(), end="")
