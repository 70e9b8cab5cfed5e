"""DynamoDB's JSON protocol spoken directly, for the verify hot path only.

On the machines we measured, botocore spends about 1 ms of CPU on each call (events, validation,
serialisation), more than DynamoDB itself takes to answer, and `import boto3` is most of a cold
start. The checkpoint's verification makes exactly one call, so that call goes out as one signed
HTTPS request on a kept-alive connection: SigV4 (checked against botocore's own signer in the
tests), the retries of botocore's standard mode (3 attempts; throttling codes, 5xx, broken
connections and CRC32 mismatches are retried, with full-jitter backoff from the 25 ms base botocore
uses for DynamoDB: a checkpoint is waiting, standard mode's 1 s base would be too long) and
botocore's error shape (`exc.response["Error"]["Code"]`), so `dynamo.is_condition_failure` reads
both. Everything else keeps using boto3.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import threading
import time
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib.lazy import Lazy
from chalicelib.settings import get_settings

API_VERSION = "DynamoDB_20120810"
SERVICE = "dynamodb"
CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_ATTEMPTS = 3
BACKOFF_BASE = 0.025   # seconds
BACKOFF_CAP = 1.0
CONNECT_TIMEOUT, READ_TIMEOUT = 2.0, 5.0
# the throttling and transient codes of botocore's standard retry mode that DynamoDB answers with
RETRYABLE_CODES = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                             "TransactionInProgressException", "InternalServerError", "ServiceUnavailable",
                             "RequestThrottled", "RequestThrottledException", "LimitExceededException"})


class WireError(Exception):
    """DynamoDB refused the request; `response` has the shape of botocore's ClientError.response."""

    def __init__(self, code: str, message: str, status: int, body: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.response: dict[str, Any] = {"Error": {"Code": code, "Message": message},
                                         "ResponseMetadata": {"HTTPStatusCode": status}, **(body or {})}

    @property
    def code(self) -> str:
        return self.response["Error"]["Code"]


class _Retry(Exception):
    """An attempt failed in a way that another attempt may not."""


def endpoint_url(region: str, configured: str | None) -> str:
    if configured:
        return configured
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://dynamodb.{region}.{suffix}"


_chain: Any = None   # botocore's credentials, found once and refreshed by botocore as they expire


def credentials() -> tuple[str, str, str | None]:
    """Lambda puts its role's credentials in the environment; elsewhere botocore's chain finds them."""
    global _chain
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return key, secret, os.environ.get("AWS_SESSION_TOKEN") or None
    if _chain is None:
        import botocore.session  # only off Lambda, without credentials in the environment

        _chain = botocore.session.get_session().get_credentials()
        if _chain is None:
            raise WireError("NoCredentials", "No AWS credentials were found.", 0)
    frozen = _chain.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class Signer:
    """AWS Signature Version 4 for a JSON POST to the service's root path."""

    def __init__(self, region: str, service: str = SERVICE):
        self.region, self.service = region, service
        self._keys: dict[tuple[str, str], bytes] = {}   # (secret, day) -> signing key; one per day

    def signing_key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), self.region), self.service), "aws4_request")
            self._keys = {(secret, day): key}
        return key

    def headers(self, host: str, target: str, payload: bytes, creds: tuple[str, str, str | None],
                now: datetime) -> dict[str, str]:
        access_key, secret, token = creds
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        signed = {"content-type": CONTENT_TYPE, "host": host, "x-amz-date": stamp, "x-amz-target": target}
        if token:
            signed["x-amz-security-token"] = token
        names = ";".join(sorted(signed))
        canonical = "\n".join(["POST", "/", "", *(f"{k}:{signed[k]}" for k in sorted(signed)), "", names,
                               hashlib.sha256(payload).hexdigest()])
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self.signing_key(secret, day), to_sign.encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": CONTENT_TYPE, "Host": host, "X-Amz-Date": stamp, "X-Amz-Target": target,
                   "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={names}, "
                                    f"Signature={signature}"}
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers


def _request(headers: dict[str, str], payload: bytes) -> bytes:
    """The whole HTTP/1.1 request as one buffer. http.client sends the headers and the body in two
    writes, and each costs a segment and a wake-up of the server: about 25 us of a 0.5 ms GetItem on
    loopback. The connection (TCP, TLS) stays http.client's."""
    lines = ["POST / HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items()),
             f"Content-Length: {len(payload)}", "", ""]
    if (any(c in value for value in headers.values() for c in "\r\n\0")
            or not all(v.isascii() for v in headers.values())):
        raise WireError("InvalidHeader", "A header value is not printable ASCII.", 0)  # e.g. a corrupt secret
    return "\r\n".join(lines).encode("ascii") + payload


class Wire:
    """One endpoint, one kept-alive connection per thread."""

    def __init__(self, url: str, region: str):
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.netloc
        self.signer = Signer(region)
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = kind(self.host, timeout=CONNECT_TIMEOUT)
            conn.connect()
            # as urllib3 (botocore) does: a request goes out as soon as it is written
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.sock.settimeout(READ_TIMEOUT)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(request, separators=(",", ":")).encode()
        target = f"{API_VERSION}.{operation}"
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._attempt(target, payload)
            except _Retry as failure:
                if attempt + 1 == MAX_ATTEMPTS:
                    cause = failure.__cause__
                    if isinstance(cause, WireError):
                        raise cause from None
                    raise WireError("ConnectionError", str(cause or failure), 0) from cause
                time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, target: str, payload: bytes) -> dict[str, Any]:
        headers = self.signer.headers(self.host, target, payload, credentials(), datetime.now(UTC))
        try:
            sock = self._connection().sock
            sock.sendall(_request(headers, payload))
            response = http.client.HTTPResponse(sock, method="POST")
            response.begin()
            raw = response.read()
        except (OSError, http.client.HTTPException) as broken:  # reset, timeout, closed keep-alive
            self._drop_connection()
            raise _Retry() from broken
        if response.getheader("Connection", "").lower() == "close":
            self._drop_connection()
        expected = response.getheader("x-amz-crc32")
        if expected is not None and zlib.crc32(raw) != int(expected):
            self._drop_connection()
            raise _Retry() from WireError("CRC32CheckFailed", "The response was damaged in transit.", response.status)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:  # not DynamoDB answering (a proxy's error page): judged by its status alone
            body = None
        if response.status == 200 and isinstance(body, dict):
            return body
        body = body if isinstance(body, dict) else {}
        code = str(body.get("__type", "")).rpartition("#")[2] or f"HTTP{response.status}"
        message = body.get("message") or body.get("Message") or ""
        error = WireError(code, message, response.status,
                          {k: v for k, v in body.items() if k not in ("__type", "message", "Message")})
        if response.status >= 500 or code in RETRYABLE_CODES:
            raise _Retry() from error
        raise error


_wire: Lazy[Wire] = Lazy()


def wire() -> Wire:
    """The container's one Wire, rebuilt only if the stage's endpoint or region changes (tests)."""
    settings = get_settings()
    key = (endpoint_url(settings.region, settings.dynamodb_endpoint), settings.region)
    return _wire.get(key, lambda: Wire(*key))


def call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    return wire().call(operation, request)
