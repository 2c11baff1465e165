"""How wrong query codes are slowed down and then refused (issue_api/proof.py)."""
import datetime as dt

from issue_api.proof import ALL_CLIENTS, LOCK_FOR, MAX_DELAY, ONE_CLIENT, Attempts, client_key

NOW = dt.datetime(2026, 12, 1, 10, 0, 0)


def _fail(attempts: Attempts, times: int, now: dt.datetime = NOW) -> Attempts:
    for _ in range(times):
        attempts = attempts.failed(now)
    return attempts


def test_one_client_gets_three_free_tries_then_doubling_waits_then_a_day_s_lock() -> None:
    assert _fail(Attempts(), 2).wait(NOW) is None
    assert _fail(Attempts(), 3).wait(NOW) == dt.timedelta(seconds=30)
    assert _fail(Attempts(), 4).wait(NOW) == dt.timedelta(seconds=60)
    locked = _fail(Attempts(), 10)
    assert locked.locked and locked.wait(NOW) == LOCK_FOR


def test_all_clients_of_a_ticket_get_six_free_tries_and_at_most_thirty_a_day() -> None:
    shared = Attempts(policy=ALL_CLIENTS)
    assert _fail(shared, 5).wait(NOW) is None
    assert _fail(shared, 6).wait(NOW) == dt.timedelta(seconds=10)
    assert _fail(shared, 20).wait(NOW) == MAX_DELAY
    assert not _fail(shared, 29).locked and _fail(shared, 30).locked
    assert ONE_CLIENT.lock_after < ALL_CLIENTS.lock_after


def test_a_day_later_the_count_starts_over_unless_locked() -> None:
    tried = _fail(Attempts(), 2)
    assert tried.fresh(NOW + dt.timedelta(hours=25)).failures == 0
    locked = _fail(Attempts(), 10)
    assert locked.fresh(NOW + dt.timedelta(hours=23)).locked


def test_a_client_is_stored_only_as_a_keyed_hash() -> None:
    key = client_key("tel:13912345678", "secret-a")
    assert "139" not in key and len(key) == 32
    assert key != client_key("tel:13912345678", "secret-b")  # without the secret, numbers cannot be tried
