"""Optimistic concurrency, written once: read, change, write only if nobody wrote since the read, else again.

The policy, the same for every record the platform changes this way (a code, an area's levels, a medical
status, a province's keys, a webhook, a correction filing):

- `load` reads the current state (strongly consistent), `change` makes the new one from it (it may refuse,
  raising an ApiError, which ends the update), and `save(current, new)` writes the new one on the condition
  that the state is still `current`, or refuses with `dynamo.ConditionFailed`.
- A refused write, or a transaction DynamoDB cancelled because another one was writing the same item
  (`dynamo.TransactionConflict`), is a lost race: load, change and save again, at once. Each loss means
  another writer's change landed, so N writers racing for one record all land within N attempts.
- After ATTEMPTS losses in a row the update gives up with 409 `concurrent_update`, which tells the
  client to send the request again; nothing of this request was written.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.errors import Conflict
from chalicelib.store import dynamo

Current = TypeVar("Current")
Change = TypeVar("Change")
Result = TypeVar("Result")

# ten writers at once on one record, as eight devices applying together (tests/test_apply_retries.py) or a
# fan-out recomputing a code while its holder applies, all land
ATTEMPTS = 10
LOST = (dynamo.ConditionFailed, dynamo.TransactionConflict)


def versioned_update(load: Callable[[], Current], change: Callable[[Current], Change],
                     save: Callable[[Current, Change], Result], what: str) -> Result:
    """What `save` returns once it wins. `what` names the record for the 409 ("The area")."""
    for _ in range(ATTEMPTS):
        current = load()
        new = change(current)
        try:
            return save(current, new)
        except LOST:
            continue
    raise Conflict(f"{what} kept changing under us; try again.", code="concurrent_update")


def retried(write: Callable[[], Result], what: str) -> Result:
    """A write with nothing to read first (its conditions are its own), under the same policy: a transaction
    cancelled by another writer of one of its items is tried again, at most ATTEMPTS times, then 409."""
    return versioned_update(lambda: None, lambda _: None, lambda _current, _new: write(), what)
