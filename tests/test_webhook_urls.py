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


@pytest.mark.parametrize("url, message", [
    ("ftp://8.8.8.8/", "must use https"),
    ("https:///hooks", "has no host"),
    ("https://8.8.8.8:0/", "port 0"),
    ("https://8.8.8.8:99999/", "malformed"),
    ("https://8.8.8.8:8x/", "malformed"),
    ("https://[8.8.8.8/", "malformed"),
    ("https://8.8.8.8/a b", "spaces or control characters"),
    ("https://8.8.8.8/a\tb", "spaces or control characters"),
    ("https://8.8.8.8/\x7f", "spaces or control characters"),
    ("https://8.8.8.8/健康", "must be ASCII"),
    ("https://8.8.8.8/?q=健康", "must be ASCII"),
    ("https://user:pass@8.8.8.8/", "credentials"),
    ("https://user@8.8.8.8/", "credentials"),
])
def test_a_url_no_request_could_be_sent_to_is_refused_with_the_reason(url, message):
    with pytest.raises(UnsafeUrl, match=message):
        urls.check(url, allow_loopback=True)


def test_a_name_is_resolved_and_every_address_it_resolves_to_is_checked():
    assert {str(a) for a in urls.resolve("localhost")} <= {"127.0.0.1", "::1"}
    assert [str(a) for a in urls.resolve("[::1]")] == ["::1"]
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        urls.resolve("bad\x00name")
