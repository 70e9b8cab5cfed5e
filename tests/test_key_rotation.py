"""A new signing key is published before it signs, so no checkpoint meets a kid it has not loaded."""
from __future__ import annotations

import jwt

from chalicelib import clock
from chalicelib.security import keyring
from tests.conftest import dump


def kids(client) -> set[str]:
    return {k["kid"] for k in client.get("/.well-known/jwks.json").json_body["keys"]}


def test_a_scheduled_key_is_published_first_and_signs_later(client, citizen, checkpoint):
    person = citizen()
    person.apply()
    before = jwt.get_unverified_header(person.qr_token())["kid"]
    fresh = keyring.rotate_signing_key(clock.now(), publish_for=600)

    assert {before, fresh.kid} <= kids(client)
    early = person.qr_token()
    assert jwt.get_unverified_header(early)["kid"] == before  # not signing yet
    assert verify(client, checkpoint, early)["valid"] is True

    clock.shift(601)
    person.headers = citizen(person.id_number, person.name).headers
    late = person.qr_token()
    assert jwt.get_unverified_header(late)["kid"] == fresh.kid
    assert verify(client, checkpoint, late)["valid"] is True


def verify(client, headers, token):
    return client.post("/v1/verifications", headers=headers,
                       body=dump({"token": token, "checkpoint_id": "gate-9"})).json_body
