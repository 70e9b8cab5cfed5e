"""Webhook delivery: fan each event out to the subscriptions that may see it, send, retry, give up.

Deliveries follow Standard Webhooks: `webhook-id` is the event id (the same on
every retry), `webhook-timestamp` the send time, `webhook-signature` one
`v1,<base64 HMAC-SHA256>` per live secret. Only 2xx is success; 410 disables the
subscription; anything else is retried on the schedule in domain/retries.py,
honouring Retry-After, until the last attempt marks the delivery dead.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from chalicelib import clock
from chalicelib.domain import days, retries
from chalicelib.domain.local_codes import province_name
from chalicelib.security import pseudonyms, sealing, urls, webhook_signing
from chalicelib.services import access_log
from chalicelib.settings import get_settings
from chalicelib.store import deliveries, events, localcodes, webhooks

log = logging.getLogger("healthcode.webhooks")
INTERNAL_FIELDS = ("set_by", "voyage")   # who inside a health authority acted, our index key
PERSON_EVENTS = {"person.color_changed", "correction.decided", "test_result.synced", "person.erased"}
# events whose audience was fixed when they were written (`data.audience`): a person's erasure removes the
# local codes and accesses that give provinces their basis, so it is read before, and goes with the event
FIXED_AUDIENCE = {"person.erased"}
PUBLIC_EVENTS = {"area.level_changed", "exposure.published", "venue.exposure_published"}
EVENT_TYPES = sorted(PERSON_EVENTS | PUBLIC_EVENTS)
SENDERS = 8
USER_AGENT = "healthcode-webhooks/1"


def _no_delay(sock: socket.socket) -> socket.socket:
    """http.client writes headers and body apart. On a kept-alive connection Nagle's algorithm holds the
    body until the headers are acknowledged, and the receiver delays that ACK (~40 ms on Linux): measured,
    a reused connection's send took 44 ms at p50 against 23 ms for a new one. As urllib3 does."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the URL check approved, whatever DNS says now."""

    def __init__(self, host: str, address: str, **kwargs: Any):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = _no_delay(socket.create_connection((self._address, self.port), self.timeout))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, **kwargs: Any):
        self._tls = ssl.create_default_context()
        super().__init__(host, context=self._tls, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = _no_delay(socket.create_connection((self._address, self.port), self.timeout))
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)  # the certificate names the host


# Kept-alive connections, per endpoint: a TLS handshake with a province costs more round trips than the
# POST itself. Keyed by the address the URL check approved, so a connection is only ever reused for
# the same scheme, host, port and pinned address; at most one idle connection per sender.
_Endpoint = tuple[str, str, str, "int | None"]
_idle: dict[_Endpoint, list[http.client.HTTPConnection]] = {}
_idle_lock = threading.Lock()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle connection the receiver closed (or wrote to unasked) cannot carry a request: a readable
    socket with nothing requested means end of stream. The check urllib3 makes before reusing one."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _checkout(endpoint: _Endpoint, timeout: float) -> http.client.HTTPConnection | None:
    with _idle_lock:
        waiting = _idle.get(endpoint, [])
        while waiting:
            connection = waiting.pop()
            if not _dropped(connection):
                connection.sock.settimeout(timeout)
                return connection
            connection.close()
    return None


def _checkin(endpoint: _Endpoint, connection: http.client.HTTPConnection) -> None:
    with _idle_lock:
        waiting = _idle.setdefault(endpoint, [])
        if len(waiting) < SENDERS:
            waiting.append(connection)
            return
    connection.close()


def live_secrets(subscription: webhooks.Subscription, now: int) -> list[str]:
    return [sealing.unseal(s.sealed, "webhook") for s in subscription.secrets
            if s.retire_at is None or s.retire_at > now]


def interested_provinces(person: str) -> dict[str, str | None]:
    """Provinces with a basis to see a person's changes now (docs/webhooks.md): those holding a live local code
    (-> its id), and those whose access to the person in the last 30 days gives one (a look-up, a status
    set, a local code or health record pushed: services/access_log.py)."""
    now = clock.now()
    held = localcodes.of_person(person)
    with_basis = access_log.provinces_with_basis(person, now) | {
        c.province for c in held if c.valid_until is None or c.valid_until > now}
    ids = {c.province: c.local_code_id for c in held}
    return {province: ids.get(province) for province in with_basis}


def render(event: events.Event, province: str, local_code_id: str | None) -> dict[str, Any]:
    data = {k: v for k, v in event.data.items() if k not in INTERNAL_FIELDS and k != "audience"}
    if event.type in PERSON_EVENTS:
        data.pop("code_id", None)
        data.pop("cause", None)
        data = {"subject_id": pseudonyms.subject_for(province, event.subject or ""), "local_code_id": local_code_id,
                **data}
    elif event.type == "area.level_changed":
        data["province_name"] = province_name(data["area"][:2])
    return {"type": event.type, "timestamp": days.iso(event.created_at), "data": data}


def fan_out(found: Iterable[events.Event], now: int,
            subscriptions: list[webhooks.Subscription] | None = None) -> list[tuple[str, str]]:
    """Create one pending delivery per (event, subscription that may see it); returns their keys.
    `subscriptions`: the active ones, if the caller read them already (once for a batch of events)."""
    told = [e for e in found if e.type in PERSON_EVENTS | PUBLIC_EVENTS]
    if not told:
        return []
    if subscriptions is None:
        subscriptions = webhooks.active()
    created = []
    for event in told:
        # a person's event goes only to provinces with a basis: one naming nobody goes to none
        audience: dict[str, str | None] | None
        if event.type in FIXED_AUDIENCE:
            audience = dict(event.data.get("audience") or {})
        else:
            audience = interested_provinces(event.subject or "") if event.type in PERSON_EVENTS else None
        for sub in subscriptions:
            if event.type not in sub.event_types or (audience is not None and sub.province not in audience):
                continue
            body = render(event, sub.province, audience.get(sub.province) if audience else None)
            if deliveries.create(sub.webhook_id, event.event_id, event.type, sub.province,
                                 json.dumps(body, ensure_ascii=False, separators=(",", ":")), now):
                created.append((sub.webhook_id, event.event_id))
    return created


def retry_after_seconds(value: str | None, now: float) -> int | None:
    """Retry-After as delay-seconds or as an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        return max(0, int(email.utils.parsedate_to_datetime(value).timestamp() - now))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def send(url: str, address: str, body: str, message_id: str, secrets: list[str], timeout: float) -> dict[str, Any]:
    """One HTTP attempt to the pinned address; never raises. Redirects are not followed (a redirect could
    point anywhere, including our own network). Returns status code (or None), latency, Retry-After, error."""
    timestamp = int(time.time())  # the receiver checks it against its own wall clock (±5 min)
    started = time.perf_counter()
    status, retry_after, error, reusable = None, None, None, False
    connection: http.client.HTTPConnection | None = None
    try:
        # inside the try: a URL stored before the check refused it (a port out of range) raises here
        parts = urlsplit(url)
        connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": webhook_signing.header(secrets, message_id, timestamp, body)}
        endpoint: _Endpoint = (parts.scheme, parts.hostname or "", address, parts.port)
        connection = _checkout(endpoint, timeout) or connection_class(endpoint[1], address, port=parts.port,
                                                                      timeout=timeout)
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        status = response.status
        retry_after = response.getheader("Retry-After")
        response.read(65536)  # drain a little; the body is not kept (it may hold anything)
        # reusable only if the whole answer was read and the receiver keeps the connection open
        reusable = response.isclosed() and not response.will_close
    except Exception as exc:  # refused, reset, timed out, TLS, a malformed URL: all mean "try again later"
        error = type(exc).__name__
    finally:
        if connection is not None and reusable:
            _checkin(endpoint, connection)
        elif connection is not None:
            connection.close()
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {"status_code": status, "latency_ms": latency, "retry_after": retry_after_seconds(retry_after, time.time()),
            "error": error}


class Subscriptions:
    """Subscriptions read once per batch of attempts, not once per delivery (a batch of a thousand events
    to five provinces reads five items, not five thousand). Shared by the batch's sender threads."""

    def __init__(self) -> None:
        self._found: dict[str, webhooks.Subscription | None] = {}
        self._lock = threading.Lock()

    def get(self, webhook_id: str) -> webhooks.Subscription | None:
        with self._lock:  # held while reading, so senders starting together make one read, not eight
            if webhook_id not in self._found:
                self._found[webhook_id] = webhooks.get(webhook_id)
            return self._found[webhook_id]

    def forget(self, webhook_id: str) -> None:
        """It changed (disabled after a 410): the batch's later attempts read it again."""
        with self._lock:
            self._found.pop(webhook_id, None)


def _outcome(subscriptions: Subscriptions, webhook_id: str, event_id: str, body: str, now: int) -> dict[str, Any]:
    """What one attempt to the subscription's endpoint came to (status code, latency, Retry-After, error)."""
    settings = get_settings()
    subscription = subscriptions.get(webhook_id)
    if subscription is None or subscription.status != webhooks.ACTIVE:
        return {"status_code": None, "latency_ms": 0, "retry_after": None, "error": "subscription_inactive"}
    try:
        url, address = urls.pinned(subscription.url, settings.allows_loopback_webhooks)
    except urls.UnsafeUrl as exc:
        return {"status_code": None, "latency_ms": 0, "retry_after": None, "error": f"unsafe_url: {exc}"}
    return send(url, address, body, event_id, live_secrets(subscription, now), settings.webhook_timeout)


def attempt(webhook_id: str, event_id: str, now: int, subscriptions: Subscriptions | None = None
            ) -> dict[str, Any] | None:
    """Claim and make the next attempt of one delivery; None if another sender has it or it is not due.

    A claim holds the delivery for the send timeout and 30 s more: should this process die before
    `finish_attempt`, the claim lapses and the sweeper (`retry_due`) makes the next attempt."""
    settings = get_settings()
    delivery = deliveries.claim(webhook_id, event_id, now, int(settings.webhook_timeout) + 30)
    if delivery is None:
        return None
    subscriptions = subscriptions or Subscriptions()
    try:
        outcome = _outcome(subscriptions, webhook_id, event_id, delivery.body, now)
    except Exception as exc:
        # whatever went wrong before or around the send (the subscription's read, unsealing its secret), the
        # claimed attempt is recorded as failed with its error and retried on the schedule: never left claimed
        log.exception("webhook attempt failed before its send",
                      extra={"webhook_id": webhook_id, "event_id": event_id})
        outcome = {"status_code": None, "latency_ms": 0, "retry_after": None,
                   "error": f"internal: {type(exc).__name__}"}
    attempt_record = deliveries.Attempt(now, delivery.attempts, outcome["status_code"], outcome["latency_ms"],
                                        outcome["retry_after"], outcome["error"])
    code = outcome["status_code"]
    if code is not None and 200 <= code < 300:
        status, next_at = "delivered", None
    elif code == 410:
        webhooks.disable(webhook_id, "the endpoint answered 410 Gone", now)
        subscriptions.forget(webhook_id)
        status, next_at = "dead", None
    elif outcome["error"] == "subscription_inactive":
        status, next_at = "dead", None
    else:
        next_at = retries.next_attempt(delivery.attempts, now, outcome["retry_after"])
        status = "pending" if next_at is not None else "dead"
    deliveries.finish_attempt(webhook_id, event_id, attempt_record, status, next_at)
    log.info("webhook attempt", extra={"webhook_id": webhook_id, "event_id": event_id, "status": status,
                                        "status_code": code, "latency_ms": outcome["latency_ms"]})
    return {**attempt_record.to_dict(), "status": status, "next_attempt_at": next_at}


def attempt_many(keys: list[tuple[str, str]], now: int, out_of_time: Callable[[], bool] = lambda: False
                 ) -> list[dict[str, Any] | None]:
    """Attempt each delivery, SENDERS at a time. Once `out_of_time()` says so, the rest are not attempted
    (None): they stay pending and due, for the retry sweeper."""
    subscriptions = Subscriptions()

    def one(key: tuple[str, str]) -> dict[str, Any] | None:
        if out_of_time():
            return None
        try:
            return attempt(key[0], key[1], now, subscriptions)
        except Exception:
            # recording the attempt failed (DynamoDB refused or was unreachable): its claim lapses and the
            # sweeper retries it; the other deliveries of the batch go on
            log.exception("webhook attempt not recorded", extra={"webhook_id": key[0], "event_id": key[1]})
            return None

    if len(keys) <= 1:
        return [one(key) for key in keys]
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        return list(pool.map(one, keys))


def retry_due(now: int) -> int:
    """The sweeper: every pending delivery whose next attempt is due."""
    keys = deliveries.due(now)
    return sum(1 for result in attempt_many(keys, now) if result is not None)
