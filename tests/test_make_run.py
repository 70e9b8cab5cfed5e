"""`make run` (infra/local/run.py) for a newcomer whose port is taken: 8000, its API's default, is also
DynamoDB Local's own default, so many AWS developers have something there. Both ports are checked before
anything starts, the message names the taken port and how to choose another, and nothing is left running.
The ports chosen reach `chalice local`: its tokens name the API's own address."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import stage
from infra.local.dynamodb_local import LAUNCHER_CLASS, free_port, port_in_use

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def occupied() -> Iterator[int]:
    """A port on which another program listens, on every interface (as a DynamoDB Local started by hand does)."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        yield sock.getsockname()[1]


def make_run(api_port: int, dynamodb_port: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({"HEALTHCODE_API_PORT": str(api_port), "HEALTHCODE_DYNAMODB_PORT": str(dynamodb_port)})
    process = subprocess.Popen([sys.executable, "-m", "infra.local.run"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # it started the stack after all: stop all of it
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"make run started instead of refusing:\n{out}\n{err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def dynamodb_local_running_on(port: int) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if LAUNCHER_CLASS.encode() in args and str(port).encode() in args:
            return True
    return False


def test_a_taken_api_port_is_named_with_how_to_choose_another_before_anything_starts(occupied: int):
    dynamodb_port = free_port()
    result = make_run(api_port=occupied, dynamodb_port=dynamodb_port)
    assert result.returncode == 1, result
    assert f"Port {occupied} (the API) is already in use" in result.stderr
    assert "make run API_PORT=" in result.stderr and "HEALTHCODE_API_PORT=" in result.stderr
    assert "Traceback" not in result.stderr and "DynamoDB Local on" not in result.stdout
    assert not port_in_use(dynamodb_port) and not dynamodb_local_running_on(dynamodb_port)


def test_a_taken_dynamodb_port_is_named_and_the_api_is_not_started(occupied: int):
    api_port = free_port()
    result = make_run(api_port=api_port, dynamodb_port=occupied)
    assert result.returncode == 1, result
    assert f"Port {occupied} (DynamoDB Local) is already in use" in result.stderr
    assert "make run DYNAMODB_PORT=" in result.stderr and "HEALTHCODE_DYNAMODB_PORT=" in result.stderr
    assert "(the API)" not in result.stderr and "Traceback" not in result.stderr
    assert not port_in_use(api_port) and not dynamodb_local_running_on(occupied)


def test_both_taken_ports_are_named_at_once(occupied: int):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        result = make_run(api_port=occupied, dynamodb_port=other.getsockname()[1])
    assert result.returncode == 1, result
    assert "(the API) is already in use" in result.stderr and "(DynamoDB Local) is already in use" in result.stderr


@pytest.mark.parametrize("api, dynamodb, says", [
    ("http", "8010", "HEALTHCODE_API_PORT must be a port number"),
    ("8000", "70000", "HEALTHCODE_DYNAMODB_PORT must be a port number"),
    ("8010", "8010", "cannot both use port 8010"),
])
def test_a_port_that_cannot_be_used_is_refused_with_what_to_do(api: str, dynamodb: str, says: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({"HEALTHCODE_API_PORT": api, "HEALTHCODE_DYNAMODB_PORT": dynamodb})
    result = subprocess.run([sys.executable, "-m", "infra.local.run"], cwd=ROOT, env=env, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 2 and says in result.stderr and "make run" in result.stderr, result


def test_the_issuer_and_the_endpoint_follow_the_chosen_ports_through_chalice_local(monkeypatch, app_module):
    from chalice.cli.factory import CLIFactory

    monkeypatch.setenv("HEALTHCODE_API_PORT", "8123")
    monkeypatch.setenv("HEALTHCODE_DYNAMODB_PORT", "8124")
    env = {**os.environ, **stage.environment("dev")}  # what make run gives `chalice local --stage dev`
    factory = CLIFactory(str(ROOT), environ=env)
    # what `chalice local` does before it serves: the stage's variables from .chalice/config.json over that
    factory.load_chalice_app(factory.create_config_obj(chalice_stage_name="dev").environment_variables)
    assert env["HEALTHCODE_ISSUER"] == "http://127.0.0.1:8123"
    assert env["HEALTHCODE_DYNAMODB_ENDPOINT"] == "http://127.0.0.1:8124"


def test_the_defaults_are_8000_for_the_api_and_8010_for_dynamodb_local(monkeypatch):
    monkeypatch.delenv("HEALTHCODE_API_PORT", raising=False)
    monkeypatch.delenv("HEALTHCODE_DYNAMODB_PORT", raising=False)
    env = stage.environment("dev")
    assert env["HEALTHCODE_ISSUER"] == "http://127.0.0.1:8000"
    assert env["HEALTHCODE_DYNAMODB_ENDPOINT"] == "http://127.0.0.1:8010"


@pytest.mark.parametrize("name", ["dev", "test"])
def test_a_stage_that_accepts_self_asserted_identities_never_runs_without_dynamodb_local(monkeypatch, name: str):
    from chalicelib import settings

    monkeypatch.setenv("HEALTHCODE_STAGE", name)
    monkeypatch.delenv("HEALTHCODE_DYNAMODB_ENDPOINT")
    with pytest.raises(RuntimeError, match="DynamoDB Local only"):
        settings.from_environment()
