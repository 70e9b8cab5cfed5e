"""Cold start: a fresh Python process importing the app, and serving its first verification.

"import app" is timed as the verify function imports it (HEALTHCODE_FUNCTION=verify: only the blueprints
it serves, see chalicelib/functions.py) and as the API handler does (every blueprint).

Every figure is the median over fresh subprocesses (cwd = repo root, this venv's
Python). Bytecode goes to a private PYTHONPYCACHEPREFIX (nothing is written into
the repo) and one untimed run fills it first, so "cached" figures do not depend on
the caller's PYTHONDONTWRITEBYTECODE. The "compiled" figure removes the cached
bytecode of the app's own modules (app.py, chalicelib/) before each run: what a deployment package
without .pyc files (or PYTHONDONTWRITEBYTECODE with no __pycache__) pays.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import stats

ROOT = Path(__file__).resolve().parents[1]
IMPORT_APP = "import time;t=time.perf_counter();import app;print(time.perf_counter()-t)"
IMPORT_BOTO3 = "import time;t=time.perf_counter();import boto3;print(time.perf_counter()-t)"

# A cold verify container: import the app as the verify function (HEALTHCODE_FUNCTION=verify), then
# hand its handler two API Gateway events as Lambda would (first DynamoDB connection, secrets file,
# key ring, first UpdateItem). No chalice.test harness: it imports botocore itself.
FIRST_REQUEST = r"""
import json, sys, time
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
from tests.lambda_events import Context, json_body, rest_event
t2 = time.perf_counter()
args = json.loads(sys.argv[1])
first = app.verify_api(rest_event("POST", "/v1/verifications", args["headers"], args["body"]), Context())
t3 = time.perf_counter()
second = app.verify_api(rest_event("POST", "/v1/verifications", args["headers"], args["body"]), Context())
t4 = time.perf_counter()
print(json.dumps({"import_app": t1 - t0, "harness": t2 - t1, "first": t3 - t2, "second": t4 - t3,
                  "ok": [r["statusCode"] == 200 and json_body(r).get("valid") is True for r in (first, second)],
                  "boto3": "boto3" in sys.modules or "botocore" in sys.modules}))
"""
VERIFY_FUNCTION = {"HEALTHCODE_FUNCTION": "verify"}


class Runner:
    def __init__(self, cache: Path):
        self.cache = cache
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "HEALTHCODE_FUNCTION")}
        self.env["PYTHONPYCACHEPREFIX"] = str(cache)

    def run(self, code: str, *args: str, flags: tuple[str, ...] = (),
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *flags, "-c", code, *args], cwd=ROOT, capture_output=True,
                              text=True, env={**self.env, **(env or {})}, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"subprocess failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def seconds(self, code: str, runs: int, forget_app_bytecode: bool = False,
                env: dict[str, str] | None = None) -> list[float]:
        self.run(code, env=env)  # untimed: fills the bytecode cache and the OS file cache
        times = []
        for _ in range(runs):
            if forget_app_bytecode:
                self.forget_app_bytecode()
            times.append(float(self.run(code, env=env).stdout.strip()))
        return times

    def interleaved(self, kinds: dict[str, tuple[str, dict[str, str] | None]], runs: int) -> dict[str, list[float]]:
        """Each kind once per round, `runs` rounds: drift on a shared machine hits every kind alike."""
        for code, env in kinds.values():
            self.run(code, env=env)  # untimed: fills the bytecode cache and the OS file cache
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(runs):
            for name, (code, env) in kinds.items():
                times[name].append(float(self.run(code, env=env).stdout.strip()))
        return times

    def forget_app_bytecode(self) -> None:
        """Drop the cached bytecode of app.py and chalicelib/ (not of the venv, which may live in the repo)."""
        own = self.cache / str(ROOT).lstrip(os.sep)  # the cache mirrors absolute source paths
        shutil.rmtree(own / "chalicelib", ignore_errors=True)
        for pyc in own.glob("*.pyc"):
            pyc.unlink()

    def import_profile(self, top: int = 6) -> list[tuple[str, float]]:
        """Self import time (ms) of the verify function's `import app` by top-level package (-X importtime)."""
        done = self.run("import app", flags=("-X", "importtime"), env=VERIFY_FUNCTION)
        by_package: dict[str, float] = {}
        for line in done.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                package = m.group(4).split(".")[0]
                by_package[package] = by_package.get(package, 0.0) + int(m.group(1)) / 1000
        return sorted(by_package.items(), key=lambda kv: -kv[1])[:top]

    def first_request(self, headers: dict[str, str], body: str, runs: int) -> list[dict[str, Any]]:
        arg = json.dumps({"headers": headers, "body": body})
        self.run(FIRST_REQUEST, arg, env=VERIFY_FUNCTION)
        return [json.loads(self.run(FIRST_REQUEST, arg, env=VERIFY_FUNCTION).stdout.strip().splitlines()[-1])
                for _ in range(runs)]


def packaged(runs: int = 7) -> dict[str, list[float]] | None:
    """`import app` (verify function) from the Lambda bundle `make package` built, unpacked read-only as
    Lambda does, with the bytecode infra/bytecode.py adds and with it removed; None if there is no bundle."""
    import stat
    import zipfile

    bundle = ROOT / "out" / "deployment.zip"
    if not bundle.exists():
        return None
    tmp = Path(tempfile.mkdtemp(prefix="healthcode-bench-bundle-"))
    try:
        for kind in ("with", "without"):
            with zipfile.ZipFile(bundle) as archive:
                members = [n for n in archive.namelist() if kind == "with" or not n.endswith(".pyc")]
                archive.extractall(tmp / kind, members)
            for path in (tmp / kind).rglob("*"):
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(VERIFY_FUNCTION, PYTHONDONTWRITEBYTECODE="1")
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(runs):
            for kind in times:
                done = subprocess.run([sys.executable, "-c", IMPORT_APP], cwd=tmp / kind, env=env,
                                      capture_output=True, text=True, timeout=120, check=True)
                times[kind].append(float(done.stdout.strip()))
        return times
    finally:
        for path in tmp.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(tmp, ignore_errors=True)


def run(checkpoint: dict[str, str], token: str, runs: int = 9, first_runs: int = 5) -> dict[str, Any]:
    cache = Path(tempfile.mkdtemp(prefix="healthcode-bench-pycache-"))
    try:
        runner = Runner(cache)
        imports = runner.interleaved({"app": (IMPORT_APP, VERIFY_FUNCTION), "whole": (IMPORT_APP, None),
                                      "boto3": (IMPORT_BOTO3, None)}, runs)
        app_s, whole_s, boto3_s = imports["app"], imports["whole"], imports["boto3"]
        body = json.dumps({"token": token, "checkpoint_id": "bench-cold-gate", "temperature": 36.6})
        firsts = runner.first_request(checkpoint, body, first_runs)
        profile = runner.import_profile()
        compiled_s = runner.seconds(IMPORT_APP, runs, forget_app_bytecode=True, env=VERIFY_FUNCTION)
        bundle = packaged()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    med = {k: stats.median([f[k] for f in firsts]) for k in ("import_app", "harness", "first", "second")}
    return {
        "import_app_s": stats.median(app_s), "import_app_all": app_s,
        "import_whole_app_s": stats.median(whole_s), "import_whole_app_all": whole_s,
        "import_app_compiled_s": stats.median(compiled_s), "import_app_compiled_all": compiled_s,
        "import_boto3_s": stats.median(boto3_s), "import_boto3_all": boto3_s,
        "first_request": med, "first_request_runs": len(firsts),
        "first_request_ok": all(all(f["ok"]) for f in firsts),
        "first_request_botocore": any(f["boto3"] for f in firsts),
        "import_and_first_s": stats.median([f["import_app"] + f["first"] for f in firsts]),
        "profile": profile,
        "bundle": {kind: stats.median(times) for kind, times in bundle.items()} if bundle else None,
    }
