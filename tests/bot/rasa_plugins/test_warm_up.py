"""A Rasa worker warms its models up before its first caller, and leaves no trace of it."""
from __future__ import annotations

import sqlite3
import time

import requests

from bot.rasa_plugins.warm_up import WARM_UP_SENDER


def _log_text(server) -> str:  # type: ignore[no-untyped-def]
    return server.process.log_path.read_text(encoding="utf-8", errors="replace")


def test_the_worker_thought_through_a_turn_before_serving_and_stored_nothing(rasa_server) -> None:
    deadline = time.monotonic() + 30
    while "warmed up" not in _log_text(rasa_server) and time.monotonic() < deadline:
        time.sleep(0.2)
    warmed = [line for line in _log_text(rasa_server).splitlines() if "warmed up" in line]
    assert len(warmed) == 1, warmed  # one worker in the tests' server, one warm-up
    assert "predicts None" not in warmed[0]  # the NLU and the policies really ran
    # A real turn afterwards is stored as usual; the warm-up conversation never was.
    reply = requests.post(f"{rasa_server.url}/webhooks/rest/webhook",
                          json={"sender": "after-warm-up", "message": "你好"}, timeout=30)
    assert reply.ok and reply.json()
    trackers = rasa_server.process.log_path.parent.parent / "trackers.db"
    with sqlite3.connect(trackers) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert "after-warm-up" in senders and WARM_UP_SENDER not in senders
