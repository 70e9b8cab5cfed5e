"""The ops command line (ops/cli.py) against the session's DynamoDB Local, through click's CliRunner.

`--stage test` keeps the environment the suite set up (its DynamoDB Local, table prefix and secrets
file), so every command here works on the same tables the API under test reads.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from chalicelib import clock, settings
from chalicelib.domain import days, retries
from chalicelib.security.access import Role
from chalicelib.store import deliveries as delivery_store
from infra import bootstrap
from infra.local.pump import scheduled_event
from ops.cli import main
from tests.conftest import auth, client_token, dump
from tests.receiver import Receiver
from tests.test_webhooks import run_retries_until_quiet, subscribe


@pytest.fixture(autouse=True)
def _keep_the_environment() -> Any:
    """The CLI sets its stage's variables in os.environ, as a process of its own may: undo that."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    settings.reset()


def ops(*args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(main, ["--stage", "test", *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def all_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += all_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_has_help():
    commands = all_commands(main)
    assert len(commands) >= 15
    for path in commands:
        result = CliRunner().invoke(main, ["--stage", "test", *path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (path, result.output)
        assert len(result.output.split("\n\n")) > 1, f"{path} has no description"


def test_tables_create_migrate_and_counts(client, citizen):
    created = ops("tables", "create")
    assert "nothing, every table and index exists" in created.output
    assert "nothing" in ops("tables", "migrate").output
    citizen().apply()
    prefix = settings.get_settings().table_prefix
    names = [bootstrap.resolve_name(p["TableName"], prefix) for p in bootstrap.table_resources().values()]
    for flags in ((), ("--exact",)):
        lines = dict(line.split() for line in ops("tables", "counts", *flags).output.splitlines()
                     if line.startswith(prefix))
        assert set(lines) == set(names)
        assert int(lines[f"{prefix}-people"]) >= 1


def test_clients_create_list_and_revoke(client):
    created = json.loads(ops("clients", "create", "--role", "checkpoint", "--name", "Chengdu East gate 1",
                             "--area", "510108").output)
    token = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                        body=f"grant_type=client_credentials&client_id={created['client_id']}"
                             f"&client_secret={created['client_secret']}")
    assert token.status_code == 200, token.json_body
    listed = ops("clients", "list").output
    assert f"{created['client_id']}\tcheckpoint\tactive" in listed and created["client_secret"] not in listed

    shell = ops("clients", "create", "--role", "province", "--name", "Sichuan", "--province", "51",
                "--format", "shell").output
    assert shell.startswith("CLIENT_ID=") and "CLIENT_SECRET=" in shell
    refused = ops("clients", "create", "--role", "province", "--name", "nowhere", ok=False)
    assert refused.exit_code == 2 and "province" in refused.output

    assert "revoked" in ops("clients", "revoke", created["client_id"]).output
    again = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                        body=f"grant_type=client_credentials&client_id={created['client_id']}"
                             f"&client_secret={created['client_secret']}")
    assert again.status_code == 401 and again.json_body["error"]["code"] == "invalid_client"
    assert ops("clients", "revoke", "cli_nobody", ok=False).exit_code == 1


def test_a_checkpoints_entry_rule_is_set_and_cleared_and_rides_in_its_next_token(client):
    from chalicelib.security.access import authenticate

    created = json.loads(ops("clients", "create", "--role", "checkpoint", "--name", "华西医院东门",
                             "--area", "510107").output)

    def token() -> str:
        answer = client.post("/v1/oauth/token", headers={"Content-Type": "application/x-www-form-urlencoded"},
                             body=f"grant_type=client_credentials&client_id={created['client_id']}"
                                  f"&client_secret={created['client_secret']}")
        return f"Bearer {answer.json_body['access_token']}"

    assert authenticate(token()).rule is None
    set_ = json.loads(ops("clients", "rule", created["client_id"], "--color", "green",
                          "--negative-test-within-hours", "48", "--min-doses", "2").output)
    assert set_["rule"] == {"colors": ["green"], "negative_test_within_hours": 48, "min_doses": 2}
    rule = authenticate(token()).rule
    assert rule is not None and rule.rule_id == set_["rule_id"] and rule.negative_test_within_hours == 48
    # listed in the published set
    from chalicelib.store import clients

    assert set_["rule_id"] in {r.rule_id for r in clients.rule_set(consistent=True).rules}
    # the list of clients is not confused by the rule set's item
    assert "#entry-rules" not in ops("clients", "list").output

    cleared = json.loads(ops("clients", "rule", created["client_id"], "--clear").output)
    assert cleared["rule"] is None and authenticate(token()).rule is None
    assert ops("clients", "rule", "ch_0000000000000000", ok=False).exit_code == 1


def test_seeding_area_levels_goes_through_the_api_service(client, citizen, pump, tmp_path: Path):
    person = citizen()
    assert person.apply().status_code == 201
    checked_in = client.post("/v1/checkins", headers=person.headers,
                             body=dump({"area": "520102", "temperature": 36.5}))
    assert checked_in.status_code in (200, 201), checked_in.json_body
    pump.drain()
    yesterday = (days.today(clock.now()) - dt.timedelta(days=1)).isoformat()
    sheet = tmp_path / "levels.csv"
    sheet.write_text("code,level,effective_from\n520102,high,\n530102,medium," + yesterday + "\n"
                     "# a comment line\n530103,low\n", encoding="utf-8")

    dry = ops("areas", "seed", str(sheet), "--dry-run")
    assert "would set 2 levels, 1 already at that level" in dry.output
    assert client.get("/v1/areas/520102").json_body["level"] == "low"

    done = ops("areas", "seed", str(sheet), "--note", "notice 12", "--operator", "duty-officer")
    assert "set 2 levels, 1 already at that level" in done.output
    guiyang = client.get("/v1/areas/520102").json_body
    assert guiyang["level"] == "high"
    kunming = client.get("/v1/areas/530102").json_body
    assert kunming["level"] == "medium" and kunming["since"] == days.start_of(days.today(clock.now())) - days.DAY
    # the same event as PUT /v1/areas: everyone who stayed there is recomputed
    pump.drain()
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] != "green"
    # seeding the same file again changes nothing
    assert "set 0 levels, 3 already at that level" in ops("areas", "seed", str(sheet)).output

    bad = tmp_path / "bad.csv"
    future = (days.today(clock.now()) + dt.timedelta(days=3)).isoformat()
    bad.write_text("520103,high\n999999,high\n520103,scarlet\n520103,high," + future + "\n520103\n")
    refused = ops("areas", "seed", str(bad), ok=False)
    assert refused.exit_code == 1 and "nothing written" in refused.output and "line 1" not in refused.output
    for line in ("line 2", "line 3", "line 4", "line 5"):
        assert line in refused.output
    assert client.get("/v1/areas/520103").json_body["level"] == "low"  # line 1 was fine, but nothing is written


def test_the_province_summaries_of_levels_are_rebuilt_for_tables_from_before_them(client, citizen):
    from chalicelib.services import area_levels
    from chalicelib.store import dynamo

    person = citizen()
    assert person.apply().status_code == 201
    checked_in = client.post("/v1/checkins", headers=person.headers,
                             body=dump({"area": "540102", "temperature": 36.5}))
    assert checked_in.status_code == 201, checked_in.json_body
    # an area raised by a version of the platform that kept no summaries: its own item only
    dynamo.put("areas", {"pk": "540102", "periods": [{"level": "high", "start": clock.now() - 60, "set_by": "old",
                                                      "set_at": clock.now() - 60, "note": None}],
                         "updated_at": clock.now() - 60, "version": 1})
    area_levels.forget()
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "green"

    done = ops("areas", "summaries")
    assert "summarised" in done.output
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "yellow"
    assert "summarised" in ops("areas", "summaries").output    # again: the same summary
    assert client.get("/v1/codes/me", headers=person.headers).json_body["color"] == "yellow"


@pytest.fixture
def fast_timeouts():
    settings.override(webhook_timeout=0.5)


def test_dead_deliveries_are_listed_and_replayed(client, health_authority, pump, fast_timeouts):
    province = auth(client_token(client, Role.PROVINCE, province="53"))
    receiver = Receiver(plan=lambda mid, attempt: "500").start()
    hook = subscribe(client, province, receiver.url, ["area.level_changed"])
    receiver.secrets.append(hook["secret"])
    for area in ("530111", "530112"):
        assert client.put(f"/v1/areas/{area}", headers=health_authority("53"),
                          body=dump({"level": "medium"})).status_code == 200
    pump.drain()
    run_retries_until_quiet(hook["id"], max_rounds=retries.MAX_ATTEMPTS + 2)

    listed = json.loads(ops("webhooks", "dead", "--province", "53", "--format", "json").output)
    assert len(listed) == 2 and {d["webhook_id"] for d in listed} == {hook["id"]}
    assert all(d["attempts"] == retries.MAX_ATTEMPTS and d["last_status_code"] == 500 for d in listed)
    assert all(d["subscription"] == "active" for d in listed)
    assert "2 dead deliveries" in ops("webhooks", "dead", "--province", "53").output
    assert "0 dead deliveries" in ops("webhooks", "dead", "--province", "65").output

    receiver.plan = lambda mid, attempt: "ok"
    first, second = listed
    sent = ops("webhooks", "replay", first["webhook_id"], first["delivery_id"], "--send-now")
    assert "1 delivered" in sent.output and list(receiver.unique()) == [first["delivery_id"]]

    queued = ops("webhooks", "replay", "--all-dead", "--province", "53")
    assert "1 queued" in queued.output
    assert delivery_store.get(hook["id"], second["delivery_id"]).status == "pending"
    from app import webhook_retries

    webhook_retries(scheduled_event(), None)  # the scheduled function sends it, as in AWS
    assert set(receiver.unique()) == {first["delivery_id"], second["delivery_id"]}
    assert delivery_store.get(hook["id"], second["delivery_id"]).status == "delivered"

    again = ops("webhooks", "replay", hook["id"], "evt_missing", ok=False)
    assert again.exit_code == 1 and "no such delivery" in again.output
    assert ops("webhooks", "replay", ok=False).exit_code == 2
    receiver.stop()


def test_keys_rotate_and_list_in_the_local_file():
    before = [line.split("\t")[0] for line in ops("keys", "list").output.splitlines()]
    rotated = ops("keys", "rotate", "--publish-for", "600")
    assert "the local secrets file" in rotated.output
    after = [line.split("\t")[0] for line in ops("keys", "list").output.splitlines()]
    assert after[:-1] == before and len(after) == len(before) + 1
    assert "secrets file ready" in ops("secrets", "init").output
