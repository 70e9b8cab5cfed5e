"""The environment of a Chalice stage, read from .chalice/config.json, for local processes."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# DynamoDB Local accepts any credentials, but botocore refuses to sign without some.
LOCAL_AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "cn-north-1"}


def environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    if env.get("HEALTHCODE_DYNAMODB_ENDPOINT"):
        env = {**LOCAL_AWS, **env}
    secrets_dir = env.get("HEALTHCODE_SECRETS_DIR")
    if secrets_dir and not Path(secrets_dir).is_absolute():
        env["HEALTHCODE_SECRETS_DIR"] = str(ROOT / secrets_dir)
    return env
