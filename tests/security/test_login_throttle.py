"""Finding 7a: the login throttle was checked before the bcrypt wait and updated after it, so a burst
of wrong passwords was mostly tried; and five wrong attempts by anybody locked the real operator out
for five minutes. Now every attempt is counted before its password is checked, and wrong attempts
earn growing delays per name and address, per address and (short ones) per name."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from tests.security.conftest import Gateway, client_from, csrf_of, log_in
from tests.support.aio import run

BURST = 150


def burst_of_wrong_passwords(gateway: Gateway, name: str, count: int = BURST,
                             address: str = "127.0.0.1") -> list[httpx.Response]:
    """`count` wrong passwords for `name` at once, from `address`, through one opened login form."""
    form = client_from(gateway.url, address)
    token = csrf_of(form.get("/console").text)

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
        async with httpx.AsyncClient(base_url=gateway.url, cookies=form.cookies, limits=limits, timeout=60) as client:
            return await asyncio.gather(*(
                client.post("/console/login", json={"username": name, "password": f"guess-{i}"},
                            headers={"X-CSRF-Token": token})
                for i in range(count)
            ))

    return run(burst())


def test_a_burst_of_wrong_passwords_gets_only_a_handful_of_password_checks(gateway: Gateway) -> None:
    answers = burst_of_wrong_passwords(gateway, "alice")
    statuses = Counter(r.status_code for r in answers)
    assert set(statuses) == {401, 429}, statuses
    assert statuses[401] <= 5, f"{statuses[401]} of {BURST} wrong passwords were checked"
    for refused in (r for r in answers if r.status_code == 429):
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        assert refused.json()["detail"].startswith("登录尝试过于频繁")


def test_the_real_operator_logs_in_from_elsewhere_right_after_a_burst_on_her_name(gateway: Gateway) -> None:
    burst_of_wrong_passwords(gateway, "alice")
    alice = client_from(gateway.url, "127.0.0.2")
    started = time.monotonic()
    answer = log_in(alice, "alice")
    if answer.status_code == 429:  # the short delay every attempt on her name now waits, nothing more
        wait = int(answer.headers["retry-after"])
        assert wait <= 10 and "秒后再试" in answer.json()["detail"]
        time.sleep(wait)
        answer = log_in(alice, "alice")
    assert answer.status_code == 200, answer.text
    assert time.monotonic() - started < 12
    assert alice.get("/api/v1/console/queue").status_code == 200


def stretch_the_delay_on(gateway: Gateway, name: str, address: str, at_least_s: int = 8) -> None:
    """Wrong passwords for `name`, each sent once the last one's delay has run out, until the next
    attempt must wait `at_least_s`: a window wide enough for the checks that follow, however busy the
    machine (a single burst earns only a second's delay, which a slow machine can spend on its own)."""
    stranger = client_from(gateway.url, address)
    for attempt in range(12):
        answer = log_in(stranger, name, f"guess-{attempt}")
        if answer.status_code == 429:
            wait = int(answer.headers["retry-after"])
            if wait >= at_least_s:
                return
            time.sleep(wait)
        else:
            assert answer.status_code == 401, answer.text
    raise AssertionError(f"the delay on {name} never reached {at_least_s} s")


def test_a_stranger_keeping_a_name_busy_cannot_keep_its_owner_out_of_her_own_browser(gateway: Gateway) -> None:
    alice = client_from(gateway.url, "127.0.0.3")
    assert log_in(alice, "alice").status_code == 200  # her browser, remembered (signed, HttpOnly)
    assert any(c.name == "gw_device" for c in alice.cookies.jar)
    assert alice.post("/console/logout", headers={"X-CSRF-Token": csrf_of(alice.get("/console").text)}).is_success
    bob = client_from(gateway.url, "127.0.0.5")
    assert log_in(bob, "bob").status_code == 200
    bobs_device = next(c.value for c in bob.cookies.jar if c.name == "gw_device")

    stretch_the_delay_on(gateway, "alice", address="127.0.0.6")
    forged = client_from(gateway.url, "127.0.0.4")
    forged.cookies.set("gw_device", "operator:alice", path="/console")
    assert log_in(forged, "alice").status_code == 429  # an unsigned claim is no device of hers
    forged.cookies.set("gw_device", bobs_device, path="/console")
    assert log_in(forged, "alice").status_code == 429  # bob's browser is not alice's
    assert log_in(alice, "alice").status_code == 200  # no wait for her own browser


def test_repeated_wrong_passwords_slow_down_without_locking_anyone_out(gateway: Gateway) -> None:
    bob = client_from(gateway.url)
    for _ in range(3):
        assert log_in(bob, "bob", "guess").status_code == 401
    slowed = log_in(bob, "bob", "bob-pass-2")  # the next attempt waits, even with the right password
    assert slowed.status_code == 429
    assert slowed.json()["detail"] == f"登录尝试过于频繁，请{slowed.headers['retry-after']}秒后再试"
    time.sleep(int(slowed.headers["retry-after"]))
    assert log_in(bob, "bob", "bob-pass-2").status_code == 200
    alice = client_from(gateway.url)  # another account from the same address was never held up
    assert log_in(alice, "alice").status_code == 200


# The policy itself, on a fake clock ------------------------------------------------------------------

# One gateway keeps the attempts in memory; gateways sharing a database keep them there, so that a
# proxy spreading a guesser's requests over several gateways gives them no more tries.
THROTTLE_STORES = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=THROTTLE_STORES)
def LoginThrottle(request: pytest.FixtureRequest, tmp_path):  # noqa: N802 - stands for the class
    from bot.gateway.login_throttle import LoginThrottle as in_memory
    from bot.gateway.login_throttle_shared import SharedLoginThrottle
    from bot.gateway_state import StateDatabase
    from tests.support.postgres import PostgresDatabases

    if request.param == "memory":
        yield in_memory
        return
    databases = PostgresDatabases("login_throttle")
    db = StateDatabase(databases.create() if request.param == "postgresql" else tmp_path / "gateway.db")
    yield lambda **kwargs: SharedLoginThrottle(db, **kwargs)
    db.dispose()
    databases.drop_all()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_after_three_free_failures_and_stop_growing_at_their_cap(LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    waits = []
    for _ in range(14):
        assert throttle.admit("operator:carol", "10.0.0.7") == 0  # admitted, and counted
        waits.append(throttle.delay("operator:carol", "10.0.0.7"))
        if waits[-1]:
            assert throttle.admit("operator:carol", "10.0.0.7") == waits[-1]  # refused, and not counted
        clock.now += waits[-1]
    assert waits[:9] == [0, 0, 1, 2, 4, 8, 16, 32, 64]
    assert waits[-1] == 300  # one name from one address: one guess per five minutes at most


def test_strangers_failing_against_a_name_hold_its_owner_up_ten_seconds_at_most(LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for attacker in range(100):  # a new address every five seconds
        throttle.admit("operator:alice", f"10.1.{attacker}.1")
        clock.now += 5
    clock.now += 10
    assert throttle.admit("operator:alice", "10.2.0.1") == 0
    assert 0 < throttle.delay("operator:alice", "192.168.1.20") <= 10
    clock.now += 10
    assert throttle.admit("operator:alice", "192.168.1.20") == 0


def test_a_browser_the_owner_logged_in_from_is_not_held_up_by_strangers_on_her_name(LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for attacker in range(30):  # a wrong password from ever new addresses as soon as the name's delay ends
        clock.now += throttle.delay("operator:alice", f"10.1.{attacker}.1")
        assert throttle.admit("operator:alice", f"10.1.{attacker}.1") == 0
    assert throttle.delay("operator:alice", "192.168.1.20") > 0  # a new browser waits its few seconds
    assert throttle.admit("operator:alice", "192.168.1.20", trusted=True) == 0  # hers does not
    # A lifted cookie buys a guesser the same short delays: trusted devices share a budget of their own.
    for attacker in range(10):
        clock.now += throttle.delay("operator:alice", f"10.3.{attacker}.1", trusted=True)
        assert throttle.admit("operator:alice", f"10.3.{attacker}.1", trusted=True) == 0
    assert 0 < throttle.delay("operator:alice", "10.4.0.1", trusted=True) <= 10


def test_a_successful_login_clears_the_delay_of_its_name_and_address(LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(3):
        assert throttle.admit("operator:dave", "10.0.0.8") == 0
    assert throttle.admit("operator:dave", "10.0.0.8") == 1
    clock.now += 1
    assert throttle.admit("operator:dave", "10.0.0.8") == 0
    throttle.succeeded("operator:dave", "10.0.0.8")
    assert throttle.delay("operator:dave", "10.0.0.8") == 0


@pytest.mark.parametrize("minutes_apart", [0, 6])
def test_an_address_shared_by_a_whole_centre_is_slowed_only_after_many_failures(minutes_apart: float, LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for operator in range(10):  # ten operators behind one NAT address mistype once each
        assert throttle.admit(f"operator:op{operator}", "10.0.0.9") == 0
        clock.now += minutes_apart * 60
    assert throttle.delay("operator:op99", "10.0.0.9") == (1 if minutes_apart == 0 else 0)


def test_names_of_any_length_or_with_control_characters_are_throttled_like_any_other(LoginThrottle) -> None:  # noqa: N803
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for name in ("operator:" + "x" * 5000, "operator:a\x00b", "operator:\ud800"):
        for _ in range(3):
            assert throttle.admit(name, "10.0.0.10") == 0
        assert throttle.admit(name, "10.0.0.10") == 1
        throttle.succeeded(name, "10.0.0.10")
        assert throttle.delay(name, "10.0.0.10") == 0


def failed_login_from(gateway: Gateway, forwarded_for: str, name: str) -> int:
    """One wrong password for `name` through the local proxy (uvicorn trusts its X-Forwarded-For)."""
    browser = client_from(gateway.url)
    browser.headers["X-Forwarded-For"] = forwarded_for
    return log_in(browser, name, "wrong-guess").status_code


def test_an_ipv6_client_taking_a_new_address_for_every_try_is_still_slowed_as_one(gateway: Gateway) -> None:
    # Unknown names each time, so that only the address delays apply (10 free failures, then waits).
    answers = [failed_login_from(gateway, f"2001:db8:0:7::{i + 1:x}", f"nobody-{i}") for i in range(14)]
    assert answers[:10] == [401] * 10
    assert 429 in answers[10:], answers


def test_clients_of_other_ipv6_networks_are_not_slowed_by_it(gateway: Gateway) -> None:
    answers = [failed_login_from(gateway, f"2001:db8:{i + 1:x}::1", f"someone-{i}") for i in range(14)]
    assert answers == [401] * 14
