"""Every optimistic update fails the same way (chalicelib/services/versioned.py): a lost race is read again, at
most ATTEMPTS times, then 409 concurrent_update; a refusal by the change ends it at once."""
from __future__ import annotations

import pytest

from chalicelib.errors import ApiError, Conflict, ValidationFailed
from chalicelib.services import versioned
from chalicelib.services.versioned import versioned_update
from chalicelib.store import dynamo


def test_a_write_that_loses_races_is_tried_on_fresh_reads_until_it_lands():
    reads, writes = [], []

    def load() -> int:
        reads.append(len(reads))
        return reads[-1]

    def save(current: int, new: int) -> str:
        writes.append((current, new))
        if len(writes) < 3:
            raise dynamo.ConditionFailed("another writer got in first")
        if len(writes) < 4:
            raise dynamo.TransactionConflict("another transaction on the item")
        return f"version {new}"

    assert versioned_update(load, lambda current: current + 1, save, "The record") == "version 4"
    assert writes == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_after_attempts_lost_races_the_caller_is_told_to_send_again():
    writes = []

    def save(current: None, new: None) -> None:
        writes.append(new)
        raise dynamo.ConditionFailed("lost")

    with pytest.raises(Conflict) as refused:
        versioned_update(lambda: None, lambda current: None, save, "The area")
    assert len(writes) == versioned.ATTEMPTS
    assert refused.value.status == 409 and refused.value.code == "concurrent_update"
    assert refused.value.message == "The area kept changing under us; try again."


def test_a_refused_change_or_another_error_ends_it_at_once():
    def refuse(current: int) -> int:
        raise ValidationFailed("no")

    saved = []
    with pytest.raises(ApiError) as refused:
        versioned_update(lambda: 1, refuse, lambda current, new: saved.append(new), "The record")
    assert refused.value.code == "validation_failed" and saved == []

    def broken(current: int, new: int) -> None:
        raise RuntimeError("DynamoDB said something else")

    with pytest.raises(RuntimeError):
        versioned_update(lambda: 1, lambda current: current, broken, "The record")
