"""Per-address limits count one subscriber, not one address: an IPv6 client has a /64 to pick from."""
from __future__ import annotations

import pytest

from bot.gateway.client_networks import is_this_machine, subscriber_network


@pytest.mark.parametrize("host, counted", [
    ("203.0.113.7", "203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
    ("2001:db8:0:1:ffff:ffff:ffff:fffe", "2001:db8:0:1::/64"),
    ("testclient", "testclient"),
])
def test_a_client_is_counted_under_its_address_or_its_ipv6_network(host: str, counted: str) -> None:
    assert subscriber_network(host) == counted


def test_addresses_of_other_ipv6_networks_are_counted_apart() -> None:
    assert subscriber_network("2001:db8:0:1::1") != subscriber_network("2001:db8:0:2::1")


def test_no_host_is_nobody() -> None:
    assert subscriber_network(None) is None and subscriber_network("") is None


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                         ("::ffff:127.0.0.1", True), ("10.0.0.1", False), ("testclient", False),
                                         (None, False)])
def test_this_machine_is_any_loopback_address(host, local: bool) -> None:  # noqa: ANN001
    assert is_this_machine(host) is local
