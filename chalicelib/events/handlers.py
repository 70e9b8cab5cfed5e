"""What happens after a change: the events table's stream and the scheduled sweeper.

Lambda delivers stream records at least once, so every handler is idempotent:
recomputing a code that is already right writes nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterable

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.events import fanout
from chalicelib.services import assessment
from chalicelib.store import codes, dynamo, work

log = logging.getLogger("healthcode.events")
SWEEP_DAYS_BACK = 15  # every window is at most 15 days, so this also catches up after a long outage


def handle_event(event: dict[str, Any], now: int) -> None:
    """Turn an event into the bounded units of work it asks for (events/fanout.py): the fan-out itself runs
    in the `fanout` function, so this stream never waits on a big city or a full train."""
    units = fanout.units_for(event)
    if units:
        work.add(units, now)
        log.info("event handled", extra={"event_type": event["type"], "event_id": event["pk"], "units": len(units)})


def new_events(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items inserted (events, work units), from Lambda-shaped DynamoDB stream records."""
    found = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # TTL removals and the like
        found.append(dynamo.from_item(record["dynamodb"]["NewImage"]))
    return found


def on_event_records(records: Iterable[dict[str, Any]]) -> None:
    """Queue the recomputes each event asks for, then fan it out to webhooks and make the first attempts.

    If this raises midway, Lambda retries the batch: recomputes write nothing new, deliveries
    already created are not created twice, and the retry sweeper sends any left pending.
    """
    from chalicelib.events import delivery

    now = clock.now()
    found = new_events(records)
    for event in found:
        handle_event(event, now)
    delivery.attempt_many(delivery.fan_out(found, now), now)


def on_people_records(records: Iterable[dict[str, Any]]) -> int:
    """Write the scans table's row for every scan a verification noted on a code (at least once:
    a row already written is left alone)."""
    from chalicelib.domain.colors import live_color
    from chalicelib.services import area_levels
    from chalicelib.services.verifications import scan_row
    from chalicelib.store import scans

    written = 0
    for record in records:
        images = record.get("dynamodb", {})
        new = dynamo.from_item(images.get("NewImage")) or {}
        old = dynamo.from_item(images.get("OldImage")) or {}
        scan = new.get("last_scan")
        if not scan or scan == old.get("last_scan"):
            continue
        color = live_color(area_levels.live_reasons(new, int(scan["at"])), int(scan["at"])).value
        try:
            scans.record(scan_row(new["pk"], scan, color))
            written += 1
        except dynamo.ConditionFailed:
            pass  # a redelivered stream record
    return written


def retry_deliveries(now: int | None = None) -> int:
    from chalicelib.events import delivery

    return delivery.retry_due(clock.now() if now is None else now)


def sweep(now: int | None = None) -> int:
    """Recompute codes whose reasons start or lapse by now (a trip's yellow ends 14 days after it)."""
    now = clock.now() if now is None else now
    written = 0
    today = days.today(now)
    for back in range(SWEEP_DAYS_BACK, -1, -1):
        day = (today - dt.timedelta(days=back)).isoformat()
        for shard in range(assessment.DUE_SHARDS):
            for code_id in codes.due(f"{day}#{shard}", now):
                record = codes.get(code_id, consistent=True)
                if record is not None:
                    written += int(assessment.refresh(record["person"], now, "window_closed")[1])
    return written


def on_work_records(records: Iterable[dict[str, Any]]) -> int:
    """Run the work units inserted (events/fanout.py); returns how many codes they wrote."""
    now = clock.now()
    return sum(fanout.run(work.from_item(item), now) for item in new_events(records))
