"""Which webhook URLs a province may register (chalicelib/security/urls.py): https to public addresses only,
so no delivery can be aimed into our own network. Addresses are IP literals or `localhost` (from the hosts
file), so no test here waits on DNS. Fast tier; test_webhooks.py registers URLs through the API.
"""
from __future__ import annotations

import pytest

from chalicelib.security import urls
from chalicelib.security.urls import UnsafeUrl

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("url, address", [
    ("https://8.8.8.8/hooks", "8.8.8.8"),
    ("https://8.8.8.8:8443/hooks?x=1", "8.8.8.8"),
    ("https://[2001:4860:4860::8888]/hooks", "2001:4860:4860::8888"),
])
def test_https_to_a_public_address_is_taken_and_pinned_to_it(url, address):
    assert urls.pinned(url, allow_loopback=False) == (url, address)
    assert urls.check(url, allow_loopback=False) == url


@pytest.mark.parametrize("url, reason", [
    ("https://169.254.169.254/latest", "a cloud metadata address"),
    ("https://[fd00:ec2::254]/", "a cloud metadata address"),
    ("https://100.100.100.200/", "a cloud metadata address"),
    ("https://127.0.0.1/", "a loopback address"),
    ("https://[::1]/", "a loopback address"),
    ("https://10.1.2.3/", "a private address"),
    ("https://172.16.0.1/", "a private address"),
    ("https://192.168.1.1/", "a private address"),
    ("https://[fc00::1]/", "a private address"),
    ("https://100.64.0.1/", "a reserved or non-public address"),       # carrier-grade NAT, shared
    ("https://224.0.0.1/", "a reserved or non-public address"),
    ("https://240.0.0.1/", "a private address"),
    ("https://0.0.0.0/", "a private address"),
    ("https://[ff02::1]/", "a reserved or non-public address"),
    # IETF-reserved IPv6 space that Python counts as neither private nor non-global: refused as reserved
    ("https://[4000::1]/", "a reserved or non-public address"),
    ("https://[e000::1]/", "a reserved or non-public address"),
])
def test_an_address_inside_any_network_of_ours_or_no_ones_is_refused(url, reason):
    with pytest.raises(UnsafeUrl, match=f"resolves to {reason}"):
        urls.pinned(url, allow_loopback=False)


def test_link_local_addresses_are_refused_too():
    # Python counts 169.254/16 and fe80::/10 as private, so the link-local wording is never reached
    for address in ("169.254.1.1", "fe80::1"):
        assert urls._forbidden(urls.ipaddress.ip_address(address)) == "a private address"
    assert urls._forbidden(urls.ipaddress.ip_address("8.8.8.8")) is None


def test_loopback_over_http_is_for_the_dev_and_test_stages_receivers_only():
    assert urls.pinned("http://127.0.0.1:9000/hooks", allow_loopback=True) == ("http://127.0.0.1:9000/hooks",
                                                                                 "127.0.0.1")
    assert urls.pinned("https://localhost:9000/", allow_loopback=True)[1] in ("127.0.0.1", "::1")
    with pytest.raises(UnsafeUrl, match="must use https"):
        urls.pinned("http://127.0.0.1:9000/hooks", allow_loopback=False)
    with pytest.raises(UnsafeUrl, match="must use https"):
        urls.pinned("http://8.8.8.8/hooks", allow_loopback=True)
    with pytest.raises(UnsafeUrl, match="a loopback address"):
        urls.pinned("https://localhost/", allow_loopback=False)


HTTPS = "the URL must use https"
SPACES = "the URL must not contain spaces or control characters (percent-encode them)"
ASCII = "the URL's path and query must be ASCII (percent-encode other characters)"
CREDENTIALS = "credentials in the URL are not allowed; we sign every request instead"


@pytest.mark.parametrize("url, message", [
    ("ftp://8.8.8.8/", HTTPS),
    ("https:///hooks", "the URL has no host"),
    ("https://8.8.8.8:0/", "port 0 is not a port a request can go to"),
    ("https://8.8.8.8/a b", SPACES),
    ("https://8.8.8.8/a\tb", SPACES),
    ("https://8.8.8.8/\x7f", SPACES),
    ("https://8.8.8.8/健康", ASCII),
    ("https://8.8.8.8/?q=健康", ASCII),
    ("https://user:pass@8.8.8.8/", CREDENTIALS),
    ("https://user@8.8.8.8/", CREDENTIALS),
    ("http://8.8.8.8/hooks", HTTPS),                      # a public address over http, even where loopback may
    ("https://10.1.2.3/", "the host 10.1.2.3 resolves to a private address (10.1.2.3)"),
    ("https://[fd00:ec2::254]/", "the host fd00:ec2::254 resolves to a cloud metadata address (fd00:ec2::254)"),
    ("https://bad\x01name/", SPACES),
])
def test_a_url_no_request_could_be_sent_to_is_refused_with_the_reason(url, message):
    """What a province's integrator reads when registering a webhook URL is refused (docs/webhooks.md)."""
    with pytest.raises(UnsafeUrl) as refused:
        urls.check(url, allow_loopback=True)
    assert str(refused.value) == message


@pytest.mark.parametrize("url, detail", [
    ("https://8.8.8.8:99999/", "Port out of range 0-65535"),
    ("https://8.8.8.8:8x/", "Port could not be cast to integer value"),
    ("https://[8.8.8.8/", "Invalid IPv6 URL"),
])
def test_a_malformed_url_is_refused_with_what_the_url_parser_found(url, detail):
    with pytest.raises(UnsafeUrl) as refused:
        urls.check(url, allow_loopback=True)
    assert str(refused.value).startswith(f"the URL is malformed: {detail}")


def test_the_dev_and_test_stages_check_lets_their_local_receivers_through():
    assert urls.check("http://127.0.0.1:9000/hooks", allow_loopback=True) == "http://127.0.0.1:9000/hooks"
    with pytest.raises(UnsafeUrl):
        urls.check("http://127.0.0.1:9000/hooks", allow_loopback=False)


def test_a_name_is_resolved_and_every_address_it_resolves_to_is_checked():
    assert {str(a) for a in urls.resolve("localhost")} <= {"127.0.0.1", "::1"}
    assert [str(a) for a in urls.resolve("[::1]")] == ["::1"]
    with pytest.raises(UnsafeUrl) as refused:
        urls.resolve("bad\x00name")
    assert str(refused.value) == "the host bad\x00name does not resolve"


def test_each_address_a_name_resolves_to_is_listed_once():
    # getaddrinfo answers each address once per socket type unless asked for TCP only (what a delivery uses)
    addresses = urls.resolve("localhost")
    assert addresses and len(addresses) == len(set(addresses))


def test_an_ipv6_address_with_a_zone_is_checked_and_pinned_without_it(monkeypatch):
    answers = {"printer.example": "fe80::1%eth0", "receiver.example": "::1%lo"}

    def getaddrinfo(host: str, port: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [(urls.socket.AF_INET6, urls.socket.SOCK_STREAM, 6, "", (answers[host], 0, 0, 2))]

    monkeypatch.setattr(urls.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(UnsafeUrl) as refused:
        urls.pinned("https://printer.example/hooks", allow_loopback=False)
    assert str(refused.value) == "the host printer.example resolves to a private address (fe80::1)"
    assert urls.pinned("http://receiver.example:9000/", allow_loopback=True) == ("http://receiver.example:9000/",
                                                                                 "::1")
