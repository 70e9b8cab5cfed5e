"""The DynamoDB Local the project starts carries the index on its stream records that the emulator
lacks (infra/local/dynamodb_local.py says why), and SQLite uses it for the lookup every request to
a stream-enabled table makes. It answers this machine only: not other addresses, not a browser page
of any origin, not a request for another host name; and it sends no telemetry."""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local import dynamodb_local
from infra.local.dynamodb_local import (
    ANY_SIGNATURE,
    STREAM_RECORDS_INDEX,
    DynamoDBLocal,
    index_stream_records,
    stream_records_plan,
)


def indexes_on_stream_records(db_file: Path) -> list[str]:
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'us'")]
    finally:
        db.close()


def test_the_session_database_looks_up_a_streams_oldest_record_by_index(dynamodb: DynamoDBLocal):
    assert STREAM_RECORDS_INDEX in indexes_on_stream_records(dynamodb.db_file)
    plan = stream_records_plan(dynamodb.db_file)
    assert f"USING COVERING INDEX {STREAM_RECORDS_INDEX}" in plan, plan


def test_the_index_goes_onto_a_running_emulator_whose_streams_keep_working(tmp_path: Path):
    import boto3

    with DynamoDBLocal(db_path=tmp_path / "stock", stream_index=False) as ddb:
        options = {"endpoint_url": ddb.endpoint, "region_name": "cn-north-1",
                   "aws_access_key_id": "local", "aws_secret_access_key": "local"}
        tables = boto3.client("dynamodb", **options)
        tables.create_table(TableName="notes", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        tables.put_item(TableName="notes", Item={"pk": {"S": "before"}})
        # as shipped, the lookup walks the records in sequence order until it meets the stream's first
        assert "INDEX" not in stream_records_plan(ddb.db_file)
        assert indexes_on_stream_records(ddb.db_file) == []

        index_stream_records(ddb.endpoint, ddb.db_file)
        index_stream_records(ddb.endpoint, ddb.db_file)  # again: a restart of `make run` does this
        assert indexes_on_stream_records(ddb.db_file) == [STREAM_RECORDS_INDEX]
        assert f"USING COVERING INDEX {STREAM_RECORDS_INDEX}" in stream_records_plan(ddb.db_file)

        tables.put_item(TableName="notes", Item={"pk": {"S": "after"}})
        streams = boto3.client("dynamodbstreams", **options)
        arn = tables.describe_table(TableName="notes")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["before", "after"]


def test_scratch_databases_of_killed_runs_are_removed_and_live_ones_kept(tmp_path: Path, monkeypatch):
    import os
    import subprocess
    import time

    from infra.local import dynamodb_local

    monkeypatch.setattr(dynamodb_local, "SCRATCH_PARENT", tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    old = time.time() - 3600

    def scratch(name: str, pid: int | None, mtime: float) -> Path:
        folder = tmp_path / f"{dynamodb_local.SCRATCH_PREFIX}{name}"
        folder.mkdir()
        (folder / dynamodb_local.DB_FILE).write_bytes(b"x" * 1024)
        if pid is not None:
            (folder / dynamodb_local.JAVA_PID).write_text(str(pid))
        os.utime(folder, (mtime, mtime))
        return folder

    killed = scratch("killed", gone.pid, old)
    no_pid = scratch("no-pid", None, old)
    running = scratch("running", os.getpid(), old)
    starting = scratch("starting", None, time.time())
    other = tmp_path / "someone-elses"
    other.mkdir()
    os.utime(other, (old, old))

    with DynamoDBLocal() as ddb:
        assert ddb.files is not None and ddb.files.parent == tmp_path and ddb.process is not None
        assert int((ddb.files / dynamodb_local.JAVA_PID).read_text()) == ddb.process.pid
        assert not killed.exists() and not no_pid.exists()
        assert running.exists() and starting.exists() and other.exists()
        mine = ddb.files
    assert not mine.exists()


# --- reachable from this machine only (issue 15: it listened on every interface) -------------------------------

def _ipv4_addresses() -> list[str]:
    """Every interface's IPv4 address (Linux SIOCGIFADDR), without iproute2."""
    import fcntl
    import socket
    import struct

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            try:
                raw = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
            except OSError:  # an interface with no IPv4 address
                continue
            found.append(socket.inet_ntoa(raw[20:24]))
    return found


def _ipv6_addresses() -> list[str]:
    """Global IPv6 addresses, from /proc/net/if_inet6 (link-local ones would need a scope)."""
    import ipaddress

    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    addresses = (ipaddress.IPv6Address(int(line.split()[0], 16)) for line in lines if line.strip())
    return [str(a) for a in addresses if not (a.is_loopback or a.is_link_local)]


def non_loopback_addresses() -> list[str]:
    import ipaddress

    return [a for a in _ipv4_addresses() + _ipv6_addresses() if not ipaddress.ip_address(a).is_loopback]


def connect(address: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect((address, port))


def reachable_on(address: str) -> bool:
    """Whether a server listening on every interface answers on `address` here: the control that makes a
    refusal mean "bound to loopback", not "this address is filtered"."""
    import socket

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        server.listen()
        try:
            connect(address, server.getsockname()[1])
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def outside_addresses() -> Iterator[list[str]]:
    """This machine's own non-loopback addresses; if it has none, one made for the test on a veth pair whose
    other end is in a network namespace (as root, with iproute2). Skips only when neither is possible, and
    never under CI=true."""
    found = [a for a in non_loopback_addresses() if reachable_on(a)]
    if found:
        yield found
        return
    with _veth_address() as address:
        if address is None:
            reason = "this machine has no non-loopback address, and no network namespace could be made (root, ip)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(reason)
            pytest.skip(reason)
        yield [address]


@contextlib.contextmanager
def _veth_address() -> Iterator[str | None]:
    import secrets
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield None
        return
    tag = secrets.token_hex(3)
    namespace, here, there = f"hc-test-{tag}", f"hc{tag}a", f"hc{tag}b"
    address = "198.51.100.1"  # TEST-NET-2: documentation addresses, never routed
    steps = [["ip", "netns", "add", namespace],
             ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
             ["ip", "link", "set", there, "netns", namespace],
             ["ip", "addr", "add", f"{address}/30", "dev", here],
             ["ip", "link", "set", here, "up"],
             ["ip", "-n", namespace, "addr", "add", "198.51.100.2/30", "dev", there],
             ["ip", "-n", namespace, "link", "set", there, "up"]]
    try:
        ok = all(subprocess.run(step, capture_output=True).returncode == 0 for step in steps)
        yield address if ok and reachable_on(address) else None
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def test_dynamodb_local_answers_on_loopback_and_refuses_every_other_address_of_the_machine(
        dynamodb: DynamoDBLocal, outside_addresses: list[str]):
    connect("127.0.0.1", dynamodb.port)
    for address in outside_addresses:
        with pytest.raises(ConnectionRefusedError):
            connect(address, dynamodb.port)


def test_it_starts_without_telemetry_and_with_no_cors_origin(dynamodb: DynamoDBLocal):
    assert dynamodb.process is not None
    args = Path(f"/proc/{dynamodb.process.pid}/cmdline").read_bytes().split(b"\0")[:-1]
    assert args[args.index(b"-cp") + 2] == dynamodb_local.LAUNCHER_CLASS.encode()
    assert b"-disableTelemetry" in args
    assert args[args.index(b"-cors") + 1] == b""


def _call(endpoint: str, method: str = "POST", **headers: str) -> tuple[int, dict[str, str], bytes]:
    import http.client
    from urllib.parse import urlparse

    url = urlparse(endpoint)
    assert url.hostname is not None
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.putrequest(method, "/", skip_host="Host" in headers)
        body = b"{}" if method == "POST" else b""
        for name, value in {"X-Amz-Target": "DynamoDB_20120810.ListTables",
                            "Content-Type": "application/x-amz-json-1.0", "Authorization": ANY_SIGNATURE,
                            "Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://evil.example", "null", "*"])
def test_no_browser_origin_may_read_its_answers(dynamodb: DynamoDBLocal, origin: str):
    status, headers, body = _call(dynamodb.endpoint, Origin=origin)
    assert status == 200 and b"TableNames" in body  # the request itself is fine...
    assert "access-control-allow-origin" not in headers  # ...but no page of that origin may read the answer
    status, headers, _ = _call(dynamodb.endpoint, "OPTIONS", Origin=origin, **{
        "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-amz-target,authorization"})
    assert "access-control-allow-origin" not in headers  # nor send one (the preflight fails)


@pytest.mark.parametrize("host", ["rebound.example:{port}", "rebound.example", "127.0.0.1.rebound.example:{port}",
                                  "192.0.2.1:{port}"])
def test_a_request_for_another_host_name_is_refused_so_dns_rebinding_reads_nothing(dynamodb: DynamoDBLocal,
                                                                                   host: str):
    status, _, body = _call(dynamodb.endpoint, Host=host.format(port=dynamodb.port))
    assert status == 421 and b"TableNames" not in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "[::1]:{port}",
                                  "127.0.0.1:9999"])  # the last: through a tunnel, e.g. ssh -L 9999:127.0.0.1:port
def test_a_request_for_this_machine_by_name_is_answered(dynamodb: DynamoDBLocal, host: str):
    status, _, body = _call(dynamodb.endpoint, Host=host.format(port=dynamodb.port))
    assert status == 200 and b"TableNames" in body

def test_a_java_without_the_compiler_module_is_told_what_to_install(tmp_path: Path):
    import shutil
    import subprocess

    jlink = shutil.which("jlink")
    if jlink is None:
        pytest.skip("jlink (a JDK) is needed to make a Java runtime without jdk.compiler")
    runtime = tmp_path / "jre"
    subprocess.run([jlink, "--add-modules", "java.base", "--output", str(runtime)], check=True, capture_output=True)
    with pytest.raises(dynamodb_local.DynamoDBLocalError, match="jdk.compiler.*\n.*openjdk-17-jre-headless"):
        dynamodb_local.launcher(str(runtime / "bin" / "java"), dynamodb_local.jar_dir() / "DynamoDBLocal.jar")
