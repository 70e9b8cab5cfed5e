"""`make run`: DynamoDB Local with its data on disk, the tables, and the API on http://127.0.0.1:8000.

Ctrl-C stops everything it started. The data lives in .data/ (ignored by git),
so codes, clients and keys survive a restart.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from infra.local import bootstrap, stage
from infra.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError

ROOT = Path(__file__).resolve().parents[2]
API_PORT = int(os.environ.get("HEALTHCODE_API_PORT", "8000"))


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # explicit, because a shell that starts us in the background leaves SIGINT ignored
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = stage.environment("dev")
    os.environ.update(env)
    port = urlparse(env["HEALTHCODE_DYNAMODB_ENDPOINT"]).port
    ddb = DynamoDBLocal(port=port, db_path=ROOT / ".data" / "dynamodb")
    try:
        ddb.start()
    except DynamoDBLocalError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"DynamoDB Local on {ddb.endpoint} (data in .data/dynamodb)")
    chalice: subprocess.Popen | None = None
    try:
        from chalicelib.store import dynamo

        created = bootstrap.bootstrap(dynamo.client(), env["HEALTHCODE_TABLE_PREFIX"])
        print(f"tables ready ({len(created)} created)")
        chalice = subprocess.Popen([str(Path(sys.executable).with_name("chalice")), "local", "--no-autoreload", "--stage", "dev",
                                    "--host", "127.0.0.1", "--port", str(API_PORT)],
                                   cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
        import threading

        import app as app_module
        from infra.local import pump as pumps

        pump = pumps.for_app(app_module, dynamo.client(), dynamo.streams_client(), env["HEALTHCODE_TABLE_PREFIX"])
        threading.Thread(target=pump.run_forever, name="pump", daemon=True).start()
        print("event pump: events stream -> app.on_events, app.sweeper every minute")
        print(f"API on http://127.0.0.1:{API_PORT}  (Ctrl-C stops it and DynamoDB Local)")
        return chalice.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if chalice and chalice.poll() is None:
            os.killpg(chalice.pid, signal.SIGTERM)  # its own group: the server and any worker it forked
            chalice.wait(timeout=10)
        ddb.stop()
        print("stopped")


if __name__ == "__main__":
    sys.exit(main())
