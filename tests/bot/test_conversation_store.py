"""The conversation store keeps everything across a restart of the process that wrote it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.conversation_store import ConversationStore
from tests.support.servers import REPO_ROOT

WRITER = """
import sys
from bot.conversation_store import ConversationStore
store = ConversationStore(sys.argv[1])
conv = store.create("voice-1", "voice", "13812345678")
store.append("voice-1", "user", "我们园区停水了")
store.append("voice-1", "bot", "请问企业名称？", {"buttons": [{"title": "转人工", "payload": "/request_human"}]})
conv.state, conv.waiting_since, conv.handoff_summary = "waiting", 1000.0, "停水"
conv.ticket_ids.append("20261127001")
store.save(conv)
"""


def test_a_killed_writer_loses_no_conversation(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    # A separate process that exits without closing anything, as a crashed gateway would.
    subprocess.run([sys.executable, "-c", WRITER + "import os; os._exit(0)\n", str(db)], cwd=REPO_ROOT, check=True)
    store = ConversationStore(db)
    conv = store.get("voice-1")
    assert (conv.channel, conv.phone, conv.state, conv.handoff_summary) == ("voice", "13812345678", "waiting", "停水")
    assert conv.ticket_ids == ["20261127001"] and conv.last_seq == 2
    assert [m["text"] for m in store.messages("voice-1")] == ["我们园区停水了", "请问企业名称？"]
    assert store.messages("voice-1")[1]["buttons"][0]["title"] == "转人工"
    assert [c.id for c in store.in_states(["waiting", "operator"])] == ["voice-1"]
    assert store.append("voice-1", "operator", "您好", {"operator": "alice"})["seq"] == 3


def test_messages_can_be_read_after_a_sequence_number_or_as_the_latest_few(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "g.db")
    store.create("web-1", "web")
    for i in range(1, 6):
        store.append("web-1", "user", f"第{i}条")
    assert [m["seq"] for m in store.messages("web-1", after=3)] == [4, 5]
    assert [m["seq"] for m in store.messages("web-1", limit=2)] == [4, 5]
    assert store.messages("unknown") == []


def test_creating_twice_keeps_the_first_conversation(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "g.db")
    store.create("web-1", "web")
    store.append("web-1", "user", "你好")
    again = store.create("web-1", "voice")
    assert again.channel == "web" and again.last_seq == 1
