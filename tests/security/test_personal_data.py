"""Finding 10: logs showed landlines, +86 numbers and sender ids (the chat's access key) in clear;
the SQLite files were mode 0644; transcripts, delivered outbox payloads and trackers were never
purged. Now one masking covers every log line, state files are the owner's alone, and
`python -m bot purge` forgets what is older than HOTLINE_RETENTION_DAYS."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import websockets

from tests.support.aio import run

from actions.outbox import Outbox
from bot.conversation_store import ConversationStore
from tests.bot.gateway.conftest import fake_rasa, start_gateway  # noqa: F401 - fixtures
from tests.support.servers import REPO_ROOT

ACCESS_KEY = "widget-key-5f1e2d3c4b5a6978"


def test_logs_mask_every_phone_and_never_show_the_chats_access_key(start_gateway, tmp_path: Path) -> None:  # noqa: F811
    gateway = start_gateway(HOTLINE_VAR_DIR=str(tmp_path / "state"), GATEWAY_LOG_LEVEL="debug")

    async def chat() -> None:
        async with websockets.connect(f"{gateway.url.replace('http', 'ws')}/ws/chat?sender={ACCESS_KEY}") as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "text": "转人工 电话 +86 139 1234 0006 座机 029-8888-1234"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("state") != "waiting":
                pass

    run(chat())
    time.sleep(0.5)
    log = gateway.log.read_text(encoding="utf-8")
    assert "/ws/chat" in log  # the socket's line is there...
    assert ACCESS_KEY not in log  # ...without the key
    for clear in ("1234 0006", "13912340006", "8888-1234", "88881234"):
        assert clear not in log


def test_state_files_are_the_owners_alone(start_gateway, tmp_path: Path) -> None:  # noqa: F811
    state = tmp_path / "state"
    start_gateway(HOTLINE_VAR_DIR=str(state), GATEWAY_DB="")
    files = [p for p in state.iterdir() if p.is_file()]
    assert any(p.name == "gateway.db" for p in files)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_purge_forgets_old_transcripts_delivered_reports_and_trackers(tmp_path: Path) -> None:
    old = time.time() - 200 * 86400
    store = ConversationStore(tmp_path / "gateway.db")
    for conversation in ("old-chat", "new-chat", "old-but-waiting"):
        store.create(conversation, "web")
        store.append(conversation, "user", "我的电话13912340007")
    waiting = store.get("old-but-waiting")
    waiting.state = "waiting"
    store.save(waiting)
    store.close()
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        db.execute("UPDATE conversations SET updated_at = ? WHERE id != 'new-chat'", (old,))
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.add("old-key", {"phone": "13912340007"})
    outbox.delivered("old-key", "2611270001")
    outbox.add("pending-key", {"phone": "13912340008"})
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        db.execute("UPDATE outbox SET delivered_at = ?, created_at = ?", (old, old))
    with sqlite3.connect(tmp_path / "trackers.db") as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
                   "intent_name TEXT, action_name TEXT, data TEXT)")
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
                       [("old-sender", old), ("old-sender", old + 10), ("new-sender", time.time())])

    result = subprocess.run([sys.executable, "-m", "bot", "purge"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOTLINE_VAR_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "purged 1 conversations, 1 delivered outbox entries, 1 trackers" in result.stdout

    store = ConversationStore(tmp_path / "gateway.db")
    assert store.get("old-chat") is None and store.messages("old-chat") == []
    assert store.get("new-chat") is not None and store.get("old-but-waiting") is not None
    assert Outbox(tmp_path / "outbox.db").get("old-key") is None
    assert Outbox(tmp_path / "outbox.db").get("pending-key") is not None  # not filed yet: kept
    with sqlite3.connect(tmp_path / "trackers.db") as db:
        assert [row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")] == ["new-sender"]
