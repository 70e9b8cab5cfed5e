"""What happens after a change: the events table's stream and the scheduled sweeper.

Lambda delivers stream records at least once, so every handler is idempotent:
recomputing a code that is already right writes nothing. Each stream handler takes its
batch a record at a time through batches.run_batch, so a record that keeps failing ends
as a dead event (ops lists and replays it) instead of holding up the records behind it.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from chalicelib import clock
from chalicelib.domain import days
from chalicelib.events import batches, fanout
from chalicelib.services import assessment
from chalicelib.store import dynamo, events, people, webhooks, work

log = logging.getLogger("healthcode.events")
SWEEP_DAYS_BACK = 15  # every window is at most 15 days, so this also catches up after a long outage


def handle_event(event: events.Event, now: int) -> None:
    """Turn an event into the bounded units of work it asks for (events/fanout.py): the fan-out itself runs
    in the `fanout` function, so this stream never waits on a big city or a full train."""
    units = fanout.units_for(event)
    if units:
        work.add(units, now)
        log.info("event handled", extra={"event_type": event.type, "event_id": event.event_id, "units": len(units)})


def new_event(record: dict[str, Any]) -> events.Event | None:
    """The event a Lambda-shaped events-table stream record inserted; None for TTL removals and the like."""
    return events.inserted(record)


def event_record_id(record: dict[str, Any]) -> str:
    """An events-table record is named by its event's id in the failures table (what ops sees elsewhere)."""
    event = new_event(record)
    return event.event_id if event else batches.stream_event_id(record)


class _EventBatch:
    """The events of one invocation, handled one at a time: each event's recompute and its webhook fan-out are
    one record for run_batch; the first delivery attempts of all of them follow (`first_attempts`)."""

    def __init__(self, now: int):
        self.now = now
        self.created: list[tuple[str, str]] = []
        self._subscriptions: list[webhooks.Subscription] | None = None

    def handle(self, record: dict[str, Any]) -> None:
        from chalicelib.events import delivery

        event = new_event(record)
        if event is None:
            return
        handle_event(event, self.now)
        if event.type in delivery.EVENT_TYPES and self._subscriptions is None:
            self._subscriptions = webhooks.active()  # once per batch, not once per event
        self.created += delivery.fan_out([event], self.now, subscriptions=self._subscriptions)

    def first_attempts(self, deadline: batches.Deadline) -> None:
        """The first attempt of each delivery created, while the invocation has time. A delivery not attempted
        is not lost: it is pending and due, and the webhook-retries function (every minute) sends it."""
        from chalicelib.events import delivery

        if self.created:
            delivery.attempt_many(self.created, self.now, out_of_time=deadline.near)


def on_event_records(records: Iterable[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    """Recompute what each event affects and fan it out to webhooks, an event at a time
    (chalicelib/events/batches.py: one that raises cannot hold up the others), then make the first
    delivery attempts. Returns Lambda's partial batch response.

    A record retried by Lambda is handled again: recomputes write nothing new, deliveries already
    created are not created twice, and the retry sweeper sends any left pending.
    """
    deadline = batches.Deadline(context)
    batch = _EventBatch(clock.now())
    response = batches.run_batch("events", list(records), batch.handle, context, record_id=event_record_id,
                                 deadline=deadline)
    batch.first_attempts(deadline)
    return response


def replay_event_record(record: dict[str, Any]) -> None:
    """One events-table record, as on_event_records handles it in a batch (ops replays dead ones)."""
    batch = _EventBatch(clock.now())
    batch.handle(record)
    batch.first_attempts(batches.Deadline(None))


def write_scan(record: dict[str, Any]) -> bool:
    """Write the scans table's row for the scan a verification noted on a code (at least once: a row already
    written is left alone). True if a row was written."""
    from chalicelib.domain.colors import live_color
    from chalicelib.services import area_levels
    from chalicelib.services.verifications import record_row

    code = people.noted_scan(record.get("dynamodb", {}))
    if code is None or code.last_scan is None:
        return False
    scan = code.last_scan
    color = live_color(area_levels.live_reasons(code, scan.at), scan.at).value
    try:
        record_row(code.code_id, scan, color)
        return True
    except dynamo.ConditionFailed:
        return False  # a redelivered stream record


def on_people_records(records: Iterable[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    """The people table's stream: the scans table's rows, a record at a time. Returns Lambda's partial
    batch response."""
    return batches.run_batch("scans", list(records), write_scan, context)


def run_unit(record: dict[str, Any]) -> None:
    """One work-table record: the unit of fan-out work it inserted (events/fanout.py)."""
    unit = work.inserted(record)
    if unit is not None:
        fanout.run(unit, clock.now())


def unit_record_id(record: dict[str, Any]) -> str:
    """A work-table record is named by its unit's id in the failures table."""
    unit = work.inserted(record)
    return unit.unit_id if unit else batches.stream_event_id(record)


def on_work_records(records: Iterable[dict[str, Any]], context: Any = None, source: str = "fanout"
                    ) -> dict[str, Any]:
    """The work or catchup table's stream (`source`: its function): each unit run on its own (one that raises
    cannot hold up the others). Returns Lambda's partial batch response."""
    return batches.run_batch(source, list(records), run_unit, context, record_id=unit_record_id)


# The stream functions whose records run_batch handles, by the name app.py gives each: ops replays a dead
# record (and recovers a batch Lambda gave up on) through these. A new stream function adds itself here.
SOURCES: dict[str, batches.Source] = {
    "events": batches.Source("events", replay_event_record, record_id=event_record_id),
    "fanout": batches.Source("fanout", run_unit, record_id=unit_record_id),
    "catchup": batches.Source("catchup", run_unit, record_id=unit_record_id),
    "scans": batches.Source("scans", write_scan),
}


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
        for code_id in people.due(day, now):
            code = people.get(code_id, consistent=True)
            if code is not None:
                written += int(assessment.refresh(code.person, now, "window_closed")[1])
    return written
