"""Several gateways share one PostgreSQL state database: whatever order their requests race in, one
operator wins a claim, messages keep distinct numbers and no linked ticket is lost."""
from __future__ import annotations

import threading
from typing import Iterator

import pytest

from bot.conversation_store import ConversationStore
from bot.gateway.pending_ratings import PendingRatings
from bot.gateway.session_store import SessionStore
from bot.gateway_state import StateDatabase
from tests.support.postgres import database_url, fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture()
def two_gateways() -> Iterator[tuple[ConversationStore, ConversationStore]]:
    with fresh_database("gateway_state") as name:
        first, second = StateDatabase(database_url(name)), StateDatabase(database_url(name))
        yield ConversationStore(first), ConversationStore(second)
        first.dispose()
        second.dispose()


def race(*jobs) -> list:  # type: ignore[no-untyped-def]
    """Run the jobs at once (a barrier lines them up) and return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = jobs[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_of_two_operators_claiming_on_two_gateways_exactly_one_wins(two_gateways) -> None:
    a, b = two_gateways
    for round_ in range(20):
        cid = f"web-claim-{round_}"
        a.create(cid, "web")
        assert a.transition(cid, state="waiting", waiting_since=1.0) is not None
        won = race(lambda: a.transition(cid, expect_states=("waiting",), state="operator", operator="alice"),
                   lambda: b.transition(cid, expect_states=("waiting",), state="operator", operator="bob"))
        winners = [conv for conv in won if conv is not None]
        assert len(winners) == 1
        assert a.get(cid).operator == winners[0].operator


def test_a_handback_cannot_undo_a_close_made_on_the_other_gateway(two_gateways) -> None:
    a, b = two_gateways
    a.create("web-close", "web")
    a.transition("web-close", state="operator", operator="alice")
    assert b.transition("web-close", expect_states=("bot", "waiting", "operator"), expect_operator="alice",
                        state="closed", operator=None) is not None
    assert a.transition("web-close", expect_states=("operator",), expect_operator="alice",
                        state="bot", operator=None) is None
    assert a.get("web-close").state == "closed"


def test_messages_appended_from_both_gateways_at_once_keep_distinct_numbers(two_gateways) -> None:
    a, b = two_gateways
    a.create("voice-busy", "voice")

    def write(store: ConversationStore, who: str) -> list[int]:
        return [store.append("voice-busy", who, f"{who}{i}")["seq"] for i in range(25)]

    seqs = race(lambda: write(a, "user"), lambda: write(b, "operator"))
    assert sorted(seqs[0] + seqs[1]) == list(range(1, 51))
    assert [m["seq"] for m in b.messages("voice-busy")] == list(range(1, 51))
    assert a.get("voice-busy").last_seq == 50


def test_tickets_linked_on_both_gateways_at_once_are_all_kept(two_gateways) -> None:
    a, b = two_gateways
    a.create("web-tickets", "web")
    race(*[(lambda s=store, t=f"2026113000{i}": s.add_tickets("web-tickets", [t]))
           for i, store in enumerate([a, b] * 4)])
    assert sorted(a.get("web-tickets").ticket_ids) == sorted(f"2026113000{i}" for i in range(8))


def test_a_conversation_created_by_both_gateways_at_once_exists_once(two_gateways) -> None:
    a, b = two_gateways
    made = race(lambda: a.create("web-new", "web"), lambda: b.create("web-new", "web"))
    assert made[0].id == made[1].id == "web-new"
    assert len(a.in_states(["bot"])) == 1


def test_sessions_and_kept_ratings_started_on_one_gateway_are_known_to_the_other(two_gateways) -> None:
    a, b = two_gateways
    session_id, _ = SessionStore(a.db, idle_s=600, max_age_s=3600).start("operator", "alice")
    assert SessionStore(b.db, idle_s=600, max_age_s=3600).get(session_id).account == "alice"
    PendingRatings(a.db).keep("web-1", "20261130001", 5, "很好")
    assert [r.ticket_id for r in PendingRatings(b.db).all()] == ["20261130001"]


def test_two_gateways_starting_at_once_remember_each_password_once_and_keep_the_sessions(two_gateways) -> None:
    a, b = two_gateways
    stores = [SessionStore(gateway.db, idle_s=600, max_age_s=3600) for gateway in (a, b)]
    session_id, _ = stores[0].start("operator", "alice")
    hashes = {"alice": b"$2b$10$same-hash-on-both", "bob": b"$2b$10$bobs-hash"}
    for _ in range(3):  # the first start on an empty table, then restarts with nothing changed
        assert race(*(lambda s=s: s.end_changed_credentials("operator", hashes) for s in stores)) == [0, 0]
    assert stores[1].get(session_id) is not None
    assert stores[1].end_changed_credentials("operator", {**hashes, "alice": b"$2b$10$a-new-one"}) == 1
    assert stores[0].get(session_id) is None
