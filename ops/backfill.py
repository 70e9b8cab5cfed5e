"""The retention backfill (ops `retention backfill`): `expires_at` on the items written before TTL was set on them.

docs/retention.md says which items those are. Each table of chalicelib/store/expiry.py is scanned in parallel
segments, a page of at most PAGE items read at a time, and each item found without `expires_at` gets the one its
table's writes would have given it. Progress goes to a local state file after every page (ops/progress.py), so a
run that stops resumes; setting an expiry is conditional on it still being absent, so a page redone sets nothing
twice and never overrides a write made meanwhile. An item its store cannot read (a shape older than any the code
knows) keeps no expiry: its key is kept in the state file for a person to look at, and the pass goes on.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.store import expiry
from ops.progress import Budget, State

PAGE = 200          # items read per Scan page


def backfill_segment(kind: str, segment: int, state: State, budget: Budget, now: int) -> None:
    place = state.segment(kind, segment)
    start = place["key"]
    while not place["done"]:
        budget.take()
        items, start = expiry.without_expiry(kind, segment, state.segments, PAGE, start)
        outcomes = [(item, expiry.set_expiry(kind, item, now)) for item in items]
        state.advance(kind, segment, start, sum(outcome is expiry.Outcome.GIVEN for _, outcome in outcomes),
                      [expiry.key_of(kind, item) for item, outcome in outcomes if outcome is expiry.Outcome.UNREADABLE])
        place = state.segment(kind, segment)


def backfill(state: State, budget: Budget, now: int) -> None:
    """Every segment of every table not done yet, the segments of a table in parallel threads."""
    for kind in expiry.TABLES:
        if state.table_done(kind):
            continue
        with ThreadPoolExecutor(max_workers=state.segments) as pool:
            futures = [pool.submit(backfill_segment, kind, s, state, budget, now) for s in range(state.segments)]
            errors = [f.exception() for f in futures]
        for error in errors:   # every thread has stopped and saved its progress before one is raised
            if error is not None:
                raise error
