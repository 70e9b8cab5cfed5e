"""Webhook URLs a province may register: no server-side request forgery into our own network.

prod: https only, and every address the host resolves to must be globally
routable (not loopback, private, shared 100.64/10, link-local, cloud metadata,
multicast or reserved). The check runs again before each delivery and returns the
address it checked; the delivery connects to exactly that address, so a DNS answer
changed in between (rebinding) cannot redirect it. dev/test may allow loopback for
local receivers.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import SplitResult, urlsplit

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
            ipaddress.ip_address("100.100.100.200")}  # AWS, AWS IPv6, Alibaba Cloud


class UnsafeUrl(ValueError):
    pass


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_private:
        return "a private address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast or address.is_reserved or address.is_unspecified or not address.is_global:
        return "a reserved or non-public address"
    return None


def resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):  # no such name, a label too long, an embedded NUL
        raise UnsafeUrl(f"the host {host} does not resolve") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check(url: str, allow_loopback: bool) -> str:
    """The URL if a delivery may go there; raises UnsafeUrl with the reason."""
    return pinned(url, allow_loopback)[0]


# what http.client refuses to put on a request line (it raises InvalidURL at send time): control characters
# and spaces; anything else a URL needs is percent-encoded
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]")


def well_formed(url: str) -> SplitResult:
    """The URL's parts if a request could be sent to it at all; raises UnsafeUrl with the reason.

    urlsplit takes "https://host:99999/" and "https://host:8x/" and only `.port` raises, at send time."""
    if _UNSENDABLE.search(url):
        raise UnsafeUrl("the URL must not contain spaces or control characters (percent-encode them)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed [IPv6 literal, a port that is no number or out of range
        raise UnsafeUrl(f"the URL is malformed: {exc}") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must use https")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if port == 0:
        raise UnsafeUrl("port 0 is not a port a request can go to")
    if not (parts.path + parts.query).isascii():  # http.client writes the request line as ASCII
        raise UnsafeUrl("the URL's path and query must be ASCII (percent-encode other characters)")
    return parts


def pinned(url: str, allow_loopback: bool) -> tuple[str, str]:
    """(the URL, the checked address a delivery must connect to); raises UnsafeUrl with the reason."""
    parts = well_formed(url)
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not allowed; we sign every request instead")
    assert parts.hostname is not None  # well_formed refuses a URL without a host
    addresses = resolve(parts.hostname)
    local_only = allow_loopback and all(a.is_loopback for a in addresses)
    if parts.scheme != "https" and not (local_only and parts.scheme == "http"):
        raise UnsafeUrl("the URL must use https")
    if not local_only:
        for address in addresses:
            reason = _forbidden(address)
            if reason:
                raise UnsafeUrl(f"the host {parts.hostname} resolves to {reason} ({address})")
    return url, str(addresses[0])
