"""The environment of a Chalice stage, read from .chalice/config.json, for `make run` and the ops CLI.

The dev stage is the one `make run` serves on this machine. Its two addresses follow the ports chosen for
it, so they are set here rather than in config.json (`chalice local` copies a stage's variables from there
over the environment it is given, which would undo a port chosen at start): the API on HEALTHCODE_API_PORT
(8000 unless set), which is also the issuer of its tokens, and DynamoDB Local on HEALTHCODE_DYNAMODB_PORT
(8010 unless set). `make run API_PORT=8001 DYNAMODB_PORT=8011` sets both; the ops CLI reads the same.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# DynamoDB Local accepts any credentials, but botocore refuses to sign without some.
LOCAL_AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "cn-north-1"}
LOCAL_STAGE = "dev"
LOCAL_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Port:
    serves: str
    variable: str       # in the environment
    make_variable: str  # `make run NAME=...`, which sets the variable
    default: int

    def how_to_choose(self) -> str:
        return f"make run {self.make_variable}=<port> (or {self.variable}=<port> in the environment)"


API = Port("the API", "HEALTHCODE_API_PORT", "API_PORT", 8000)
# Not 8000: that is DynamoDB Local's own default, so AWS developers often have one running there already.
DYNAMODB = Port("DynamoDB Local", "HEALTHCODE_DYNAMODB_PORT", "DYNAMODB_PORT", 8010)


class PortError(ValueError):
    pass


def local_ports(environ: Mapping[str, str] = os.environ) -> dict[Port, int]:
    """The ports of the dev stage, from the environment or the defaults; a PortError says what is wrong."""
    chosen = {}
    for port in (API, DYNAMODB):
        raw = environ.get(port.variable, "").strip()
        if raw and (not raw.isdigit() or not 1 <= int(raw) <= 65535):
            raise PortError(f"{port.variable} must be a port number from 1 to 65535, not {raw!r}: "
                            f"{port.how_to_choose()}")
        chosen[port] = int(raw) if raw else port.default
    if chosen[API] == chosen[DYNAMODB]:
        raise PortError(f"the API and DynamoDB Local cannot both use port {chosen[API]}: {DYNAMODB.how_to_choose()}")
    return chosen


def environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    if stage == LOCAL_STAGE:
        ports = local_ports()
        env["HEALTHCODE_DYNAMODB_ENDPOINT"] = f"http://{LOCAL_HOST}:{ports[DYNAMODB]}"
        env["HEALTHCODE_ISSUER"] = f"http://{LOCAL_HOST}:{ports[API]}"  # its tokens name the API they come from
    if env.get("HEALTHCODE_DYNAMODB_ENDPOINT"):
        env = {**LOCAL_AWS, **env}
    secrets_dir = env.get("HEALTHCODE_SECRETS_DIR")
    if secrets_dir and not Path(secrets_dir).is_absolute():
        env["HEALTHCODE_SECRETS_DIR"] = str(ROOT / secrets_dir)
    return env
