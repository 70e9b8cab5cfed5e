"""`make test-fast` runs the rules, ID and token tests without Java: no DynamoDB Local, no AWS call.

The fast tier runs here in a process of its own, as `make test-fast` runs it, with a `java` first on its PATH
that only notes it was started: DynamoDB Local is found and started through `java` (infra/local/
dynamodb_local.py), so if anything in the tier started it, the note would be there. Every AWS call the tier
makes is recorded as in any session (tests/aws_calls.py): it must make none.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_fast_tier_passes_without_starting_java_or_calling_aws(tmp_path):
    bin_dir, started = tmp_path / "bin", tmp_path / "java-was-started"
    bin_dir.mkdir()
    fake_java = bin_dir / "java"
    fake_java.write_text(f"#!/bin/sh\necho \"$@\" >> {started}\nexit 1\n")
    fake_java.chmod(0o755)
    calls = tmp_path / "aws-calls.json"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "HEALTHCODE_AWS_CALLS_OUT": str(calls),
           "HEALTHCODE_PROPERTY_EXAMPLES": "5"}   # where the tier runs, not what it proves (tests/examples.py)
    for name in ("HEALTHCODE_DYNAMODB_ENDPOINT", "HEALTHCODE_TABLE_PREFIX", "HEALTHCODE_SECRETS_DIR"):
        env.pop(name, None)      # this session's: the tier must set up its own stage

    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "fast"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) >= 100, run.stdout[-1000:]
    assert not started.exists(), started.read_text()
    assert json.loads(calls.read_text())["calls"] == []
