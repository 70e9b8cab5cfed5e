"""`make run`: DynamoDB Local with its data on disk, the tables, and the API on http://127.0.0.1:8000.

Ctrl-C stops everything it started. The data lives in .data/ (ignored by git),
so codes, clients and keys survive a restart. Both ports are checked before
anything starts; `make run API_PORT=8001 DYNAMODB_PORT=8011` (or
HEALTHCODE_API_PORT / HEALTHCODE_DYNAMODB_PORT) chooses others (infra/stage.py).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infra import bootstrap, stage
from infra.local.dynamodb_local import HOST, DynamoDBLocal, DynamoDBLocalError, port_in_use

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".data" / "dynamodb"


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _fresh_if_indexes_changed(ddb: DynamoDBLocal, prefix: str) -> DynamoDBLocal:
    """Start from empty tables when the stored ones have other indexes than infra/template.json.

    DynamoDB Local cannot change the indexes of a table stored on disk: a created or deleted index
    stays CREATING or DELETING and queries on it fail. So the old database is moved aside, not changed,
    and the tables are created anew. Local data is test data; nothing is deleted."""
    from chalicelib.store import dynamo

    drift = bootstrap.index_drift(dynamo.client(), prefix)
    if not drift:
        return ddb
    ddb.stop()
    kept = DATA.with_name(f"dynamodb-before-{time.strftime('%Y%m%d-%H%M%S')}")
    DATA.rename(kept)
    for table, (missing, dropped) in drift.items():
        print(f"{table}: the template now has indexes {missing} and no longer {dropped}")
    print(f"DynamoDB Local cannot change a stored table's indexes: the old data is kept in {kept.relative_to(ROOT)} "
          "and the tables start empty (log in and apply again; `.venv/bin/python -m ops clients create` makes "
          "clients again)")
    return DynamoDBLocal(port=ddb.port, db_path=DATA).start()


def ports_taken(ports: dict[stage.Port, int]) -> list[str]:
    """What to tell a newcomer for each port that something else already listens on (before anything starts:
    otherwise DynamoDB Local would start, and `chalice local` then fail with a traceback)."""
    said = []
    for port, number in ports.items():
        if not port_in_use(number):
            continue
        hint = port.how_to_choose()
        spare = next((n for n in range(number + 1, min(number + 100, 65536))
                      if n not in ports.values() and not port_in_use(n)), None)
        if spare:
            hint += f", e.g. make run {port.make_variable}={spare}"
        said.append(f"Port {number} ({port.serves}) is already in use on {HOST} by another program. "
                    f"Choose another: {hint}.")
    return said


def main() -> int:
    # explicit, because a shell that starts us in the background leaves SIGINT ignored
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        env = stage.environment(stage.LOCAL_STAGE)
        ports = stage.local_ports()
    except stage.PortError as exc:
        print(exc, file=sys.stderr)
        return 2
    taken = ports_taken(ports)
    if taken:
        print("\n".join(taken), file=sys.stderr)
        return 1
    os.environ.update(env)
    api_port = ports[stage.API]
    ddb = DynamoDBLocal(port=ports[stage.DYNAMODB], db_path=DATA)
    try:
        ddb.start()
        ddb = _fresh_if_indexes_changed(ddb, env["HEALTHCODE_TABLE_PREFIX"])
    except DynamoDBLocalError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"DynamoDB Local on {ddb.endpoint} (data in .data/dynamodb)")
    chalice: subprocess.Popen | None = None
    try:
        from chalicelib.store import dynamo

        created = bootstrap.bootstrap(dynamo.client(), env["HEALTHCODE_TABLE_PREFIX"])
        print(f"tables ready ({len(created)} created)")
        chalice = subprocess.Popen([str(Path(sys.executable).with_name("chalice")), "local", "--no-autoreload",
                                    "--stage", stage.LOCAL_STAGE, "--host", HOST, "--port", str(api_port)],
                                   cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
        import threading

        import app as app_module
        from infra.local import pump as pumps

        pump = pumps.for_app(app_module, dynamo.client(), dynamo.streams_client(), env["HEALTHCODE_TABLE_PREFIX"])
        threading.Thread(target=pump.run_forever, name="pump", daemon=True).start()
        print("event pump: " + ", ".join(f"{s.table} stream -> {s.function}" for s in pump.sources)
              + "; the sweepers every few seconds; dead events: .venv/bin/python -m ops events dead")
        print(f"API on http://{HOST}:{api_port}  (Ctrl-C stops it and DynamoDB Local)")
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
