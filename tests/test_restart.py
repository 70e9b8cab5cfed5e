"""A data restart keeps codes: DynamoDB Local with its files on disk (as `make run` uses it) is stopped and
started again, and a citizen finds the same code, at the same version.

This test starts its own DynamoDB Local next to the session's scratch one and points the
app at it through the settings; chalicelib/store/dynamo.py rebuilds its client when the
endpoint changes, and the autouse fixture in conftest points it back afterwards.
"""
from __future__ import annotations

from pathlib import Path

from chalicelib import settings
from chalicelib.store import dynamo
from infra import bootstrap
from infra.local.dynamodb_local import DynamoDBLocal


def use(ddb: DynamoDBLocal) -> None:
    settings.override(dynamodb_endpoint=ddb.endpoint)
    assert dynamo.client().meta.endpoint_url == ddb.endpoint


def test_a_data_restart_keeps_codes(client, citizen, tmp_path: Path):
    data = tmp_path / "dynamodb"
    prefix = settings.get_settings().table_prefix
    person = citizen()

    with DynamoDBLocal(db_path=data) as first:
        use(first)
        created = bootstrap.bootstrap(dynamo.client(), prefix)
        assert f"{prefix}-people" in created
        # bootstrapping again is a no-op: it creates nothing and fails on nothing
        assert bootstrap.bootstrap(dynamo.client(), prefix) == []

        assert person.apply(temperature=36.6).status_code == 201
        feverish = person.apply(temperature=38.4)
        assert feverish.status_code == 200
        before = feverish.json_body
        assert (before["version"], before["color"]) == (2, "yellow")

    assert any(data.iterdir()), "DynamoDB Local wrote no files"

    with DynamoDBLocal(db_path=data) as second:
        use(second)
        # the tables survived too: a bootstrap after the restart has nothing to create
        assert bootstrap.bootstrap(dynamo.client(), prefix) == []
        after = client.get("/v1/codes/me", headers=person.headers)
        assert after.status_code == 200, after.json_body
        mine = after.json_body
        assert {k: mine[k] for k in ("code_id", "version", "color", "declared_at", "id_last4")} == {
            k: before[k] for k in ("code_id", "version", "color", "declared_at", "id_last4")}
        # and the code keeps working: a checkpoint-facing QR token names it
        qr = client.get("/v1/codes/me/qr", headers=person.headers)
        assert qr.status_code == 200 and qr.json_body["color"] == "yellow"


def test_the_session_store_is_back_after_the_override(client, citizen):
    # the restart test's DynamoDB Local is gone; the app is back on the session's one
    assert dynamo.client().meta.endpoint_url == settings.get_settings().dynamodb_endpoint
    person = citizen()
    assert person.apply().status_code == 201
