"""The hotline's tracker store keeps recent conversations in memory and still behaves like Rasa's.

Every test plays turns the way Rasa's message processor does (retrieve, add events, save) and checks
what a caller of the store sees and what lands in the database against Rasa's own SQLTrackerStore.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.rasa_plugins.tracker_store import HotlineSQLTrackerStore

DOMAIN = Domain.from_dict({
    "intents": ["greet", "report_issue"],
    "slots": {"company": {"type": "text", "influence_conversation": False,
                          "mappings": [{"type": "custom"}]}},
    "responses": {"utter_greet": [{"text": "您好"}]},
})


def run(coroutine):
    return asyncio.run(coroutine)


def hotline_store(db: Path, **options) -> HotlineSQLTrackerStore:
    return HotlineSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db), **options)


def rasa_store(db: Path) -> SQLTrackerStore:
    return SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))


def start_session(store, sender: str):
    """What Rasa does for a new conversation: create the tracker, run action_session_start, save."""
    tracker = run(store.get_or_create_tracker(sender, append_action_listen=False))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    return tracker


def turn(store, sender: str, text: str, company: str | None = None):
    """One user turn as the processor plays it: retrieve, the message and the bot's answer, save."""
    tracker = run(store.retrieve(sender))
    tracker.update(UserUttered(text, {"name": "report_issue", "confidence": 0.9}))
    if company:
        tracker.update(SlotSet("company", company))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("您好"))
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    return tracker


def stored_rows(db: Path, sender: str) -> list[tuple]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender}).fetchall()
    engine.dispose()
    # The timestamp inside `data` differs between two runs; everything else must not.
    return [(t, i, a, _without_timestamp(d)) for t, i, a, d in rows]


def _without_timestamp(data: str) -> str:
    import json

    value = json.loads(data)
    value.pop("timestamp", None)
    return json.dumps(value, sort_keys=True)


def events_of(tracker) -> list[dict]:
    return [event.as_dict() for event in tracker.events]


def test_the_database_gets_the_same_rows_as_from_rasas_own_store(tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    for store, db in ((hotline_store(ours), ours), (rasa_store(theirs), theirs)):
        start_session(store, "c1")
        turn(store, "c1", "停电了", company="西安某公司")
        turn(store, "c1", "还没好")
        turn(store, "c1", "谢谢")
    assert stored_rows(ours, "c1") == stored_rows(theirs, "c1")
    assert len(stored_rows(ours, "c1")) == 3 + 3 * 4 + 1


def test_the_next_turn_gets_the_tracker_kept_from_the_last_one(tmp_path):
    store = hotline_store(tmp_path / "t.db")
    start_session(store, "c1")
    first = turn(store, "c1", "停电了", company="西安某公司")
    again = run(store.retrieve("c1"))
    assert again is first
    # ... and it is what reading the rows gives: same events, same slots.
    fresh = run(hotline_store(tmp_path / "t.db").retrieve("c1"))
    assert events_of(again) == events_of(fresh)
    assert again.current_slot_values() == fresh.current_slot_values() == {"company": "西安某公司",
                                                                          "session_started_metadata": None}


def test_a_turn_served_by_another_rasa_server_is_read_from_the_database(tmp_path):
    db = tmp_path / "shared.db"
    server_a, server_b = hotline_store(db), hotline_store(db)
    start_session(server_a, "c1")
    turn(server_a, "c1", "停电了")
    turn(server_b, "c1", "我们公司叫西安某公司", company="西安某公司")
    tracker = run(server_a.retrieve("c1"))
    assert tracker.get_slot("company") == "西安某公司"
    turn(server_a, "c1", "谢谢")
    # No turn is lost or stored twice although each server kept its own copy.
    texts = [event.text for event in run(server_b.retrieve("c1")).events if isinstance(event, UserUttered)]
    assert texts == ["停电了", "我们公司叫西安某公司", "谢谢"]


def test_events_posted_through_another_store_are_seen(tmp_path):
    db = tmp_path / "t.db"
    store = hotline_store(db)
    start_session(store, "c1")
    turn(store, "c1", "停电了")
    other = rasa_store(db)
    tracker = run(other.retrieve("c1"))
    tracker.update(SlotSet("company", "别的公司"))
    run(other.save(tracker))
    assert run(store.retrieve("c1")).get_slot("company") == "别的公司"


def test_a_turn_that_failed_before_saving_leaves_nothing_behind(tmp_path):
    store = hotline_store(tmp_path / "t.db")
    start_session(store, "c1")
    turn(store, "c1", "停电了")
    broken = run(store.retrieve("c1"))
    broken.update(UserUttered("这一句没有存下来", {"name": "greet", "confidence": 1.0}))
    # The processor failed here: no save. The next turn must not see the unsaved message.
    tracker = run(store.retrieve("c1"))
    assert tracker is not broken
    assert "这一句没有存下来" not in [getattr(event, "text", None) for event in tracker.events]


def test_a_new_session_starts_from_the_database_like_rasa(tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    results = []
    for store in (hotline_store(ours), rasa_store(theirs)):
        start_session(store, "c1")
        turn(store, "c1", "停电了")
        tracker = run(store.retrieve("c1"))
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        run(store.save(tracker))
        results.append([event["event"] for event in events_of(run(store.retrieve("c1")))])
    assert results[0] == results[1]
    assert results[0][0] != "user"  # only the new session's events


@pytest.mark.parametrize("options", [{"cache_size": 0}, {"cache_idle_seconds": 0}])
def test_kept_trackers_can_be_turned_off_or_expire(tmp_path, options):
    store = hotline_store(tmp_path / "t.db", **options)
    start_session(store, "c1")
    tracker = turn(store, "c1", "停电了")
    again = run(store.retrieve("c1"))
    assert again is not tracker
    assert events_of(again) == events_of(tracker)


def test_only_the_most_recent_conversations_are_kept(tmp_path):
    store = hotline_store(tmp_path / "t.db", cache_size=2)
    trackers = {}
    for sender in ("c1", "c2", "c3"):
        start_session(store, sender)
        trackers[sender] = turn(store, sender, "停电了")
    assert run(store.retrieve("c1")) is not trackers["c1"]
    assert run(store.retrieve("c3")) is trackers["c3"]


def _same_as_the_database(store, db: Path, sender: str) -> None:
    kept = run(store.retrieve(sender))
    fresh = run(hotline_store(db).retrieve(sender))
    assert events_of(kept) == events_of(fresh)


def test_a_write_between_reading_and_saving_is_not_lost_from_view(tmp_path):
    # A turn that outlived its lock (or an API call) wrote while this server held the tracker.
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    for make, db in ((hotline_store, ours), (lambda path: rasa_store(path), theirs)):
        server_a, server_b = make(db), make(db)
        start_session(server_a, "c1")
        turn(server_a, "c1", "一")
        held = run(server_a.retrieve("c1"))
        turn(server_b, "c1", "B 说的")
        held.update(UserUttered("A 说的", {"name": "greet", "confidence": 1.0}))
        run(server_a.save(held))
        if make is hotline_store:
            _same_as_the_database(server_a, db, "c1")
    assert stored_rows(ours, "c1") == stored_rows(theirs, "c1")  # saved the way Rasa saves then


def test_a_tracker_the_store_did_not_hand_out_is_not_kept(tmp_path):
    # Rasa's PUT /conversations/{id}/tracker/events builds a tracker from the request and saves it.
    from rasa.shared.core.trackers import DialogueStateTracker

    db = tmp_path / "t.db"
    store = hotline_store(db)
    start_session(store, "c1")
    turn(store, "c1", "一")
    turn(store, "c1", "二")
    replaced = DialogueStateTracker.from_events("c1", [UserUttered("替换", {"name": "greet", "confidence": 1.0})],
                                                DOMAIN.slots)
    run(store.save(replaced))
    assert run(store.retrieve("c1")) is not replaced
    _same_as_the_database(store, db, "c1")


def test_a_new_model_domain_drops_the_kept_trackers(tmp_path):
    store = hotline_store(tmp_path / "t.db")
    start_session(store, "c1")
    tracker = turn(store, "c1", "一")
    store.domain = Domain.from_dict({"intents": ["greet"], "slots": {
        "district": {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}}})
    again = run(store.retrieve("c1"))
    assert again is not tracker and "district" in again.slots


def test_an_event_dated_before_its_session_is_read_back_as_rasa_reads_it(tmp_path):
    db = tmp_path / "t.db"
    store = hotline_store(db)
    start_session(store, "c1")
    tracker = run(store.retrieve("c1"))
    tracker.update(SlotSet("company", "旧时间", timestamp=1.0))  # before the session started
    run(store.save(tracker))
    assert run(store.retrieve("c1")).get_slot("company") == run(rasa_store(db).retrieve("c1")).get_slot("company")
