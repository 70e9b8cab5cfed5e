"""Applying reads the person's sources at once (services/assessment.gather), and one failed read
fails the apply cleanly: an answer the client can act on, and no new version."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.store import corrections, localcodes, medical
from tests.conftest import dump

BODY = dump({"temperature": 36.5, "symptoms": [], "contact_with_cases": False,
             "stayed_in_high_risk_area": False, "current_area": "510104"})


def apply(client: Any, person: Any) -> Any:
    return client.post("/v1/codes", headers=person.headers, body=BODY)


def test_independent_sources_are_read_at_the_same_time(client, citizen, monkeypatch):
    person = citizen()
    assert apply(client, person).status_code == 201
    # the medical statuses and the correction state are read by different chains: each read waits
    # until the other has started, which one-after-another reading never lets happen
    both_started = threading.Barrier(2, timeout=5)
    statuses, state = medical.statuses, corrections.state

    def statuses_after_meeting(who: str) -> Any:
        both_started.wait()
        return statuses(who)

    def state_after_meeting(who: str) -> Any:
        both_started.wait()
        return state(who)

    monkeypatch.setattr(medical, "statuses", statuses_after_meeting)
    monkeypatch.setattr(corrections, "state", state_after_meeting)
    again = apply(client, person)
    assert again.status_code == 200, again.json_body
    assert again.json_body["version"] == 2


@pytest.mark.parametrize("code, status, error", [("ProvisionedThroughputExceededException", 503, "overloaded"),
                                                  ("InternalFailure", 500, "internal_error")])
def test_a_failed_source_read_fails_the_apply_and_writes_nothing(client, citizen, monkeypatch, code, status, error):
    person = citizen()
    assert apply(client, person).status_code == 201

    def refused(who: str) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "Query")

    monkeypatch.setattr(localcodes, "of_person", refused)
    failed = apply(client, person)
    assert failed.status_code == status and failed.json_body["error"]["code"] == error, failed.json_body
    monkeypatch.undo()
    mine = client.get("/v1/codes/me", headers=person.headers)
    assert mine.json_body["version"] == 1
