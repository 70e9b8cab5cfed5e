"""`chalice local` for the contract fuzzing (tests/test_contract_fuzz.py), with no way off this machine.

Generated webhook URLs would make the server resolve random host names (chalicelib/security/urls.py
checks where a URL points): here name resolution answers only for IP literals and localhost, so any
other host is "does not resolve" (a 422), and a socket may connect only to a loopback address (DynamoDB
Local), so a webhook ping to a generated public address fails instead of leaving the machine.

    python -m tests.fuzz_server PORT
"""
from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_getaddrinfo = socket.getaddrinfo


def _local_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name != "localhost":
        try:
            ipaddress.ip_address(name.strip("[]").split("%")[0])
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "the fuzzing server resolves no host names") from None
    return _getaddrinfo(host, *args, **kwargs)


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


def _connect_loopback(self, address):
    if not _loopback(address):
        raise ConnectionRefusedError(f"the fuzzing server connects to loopback addresses only, not {address[0]}")
    return _connect(self, address)


def _connect_ex_loopback(self, address):
    if not _loopback(address):
        raise ConnectionRefusedError(f"the fuzzing server connects to loopback addresses only, not {address[0]}")
    return _connect_ex(self, address)


def main() -> int:
    socket.getaddrinfo = _local_only
    socket.socket.connect = _connect_loopback  # type: ignore[method-assign]  # loopback only
    socket.socket.connect_ex = _connect_ex_loopback  # type: ignore[method-assign]  # loopback only
    from chalice.cli import main as chalice

    sys.argv = ["chalice", "--project-dir", str(ROOT), "local", "--no-autoreload", "--stage", "test",
                "--host", "127.0.0.1", "--port", sys.argv[1]]
    return chalice()


if __name__ == "__main__":
    sys.exit(main())
