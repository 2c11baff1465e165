"""`make run-scaled`: HAProxy in front of two of every process, state in PostgreSQL and Redis.

A widget on one gateway and the operator's console on the other see the same conversation live, with
no sticky sessions; killing a gateway or a Rasa server (-9) loses no conversation: the widget
reconnects through the balancer and goes on where it was, and supervisord brings the process back.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import sqlalchemy as sa
import websockets

from bot.gateway.chat_ws import web_conversation_id
from tests.support.aio import run
from tests.support.postgres import admin_connection
from tests.support.servers import REPO_ROOT, port_with_replicas
from tests.support.stack import MODEL_PATH
from tests.test_make_run import _pid_listening, _wait_ok

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the model trained by make setup")]
OPERATOR, PASSWORD = "lead", "scaled-pass-1"


class Scaled:
    def __init__(self, ports: dict[str, int], proc: subprocess.Popen, var_dir: Path, prefix: str) -> None:
        self.ports, self.proc, self.var_dir, self.prefix = ports, proc, var_dir, prefix

    def url(self, name: str, replica: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[name] + replica}"

    def ws(self, name: str, replica: int = 0) -> str:
        return self.url(name, replica).replace("http", "ws")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    tmp = tmp_path_factory.mktemp("scaled")
    ports = {name: port_with_replicas() for name in ("issue_api", "actions", "rasa", "gateway")}
    prefix = f"scaletest_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "HOTLINE_VAR_DIR": str(tmp / "state"),
        "HOTLINE_PG_PREFIX": prefix,
        "ISSUE_API_PORT": str(ports["issue_api"]), "ACTIONS_PORT": str(ports["actions"]),
        "RASA_PORT": str(ports["rasa"]), "GATEWAY_PORT": str(ports["gateway"]),
        "GATEWAY_OPERATORS": f"{OPERATOR}:{PASSWORD}",
        "VOSK_MODEL": str(tmp / "no-voice-model"),
    }
    for name in ("ISSUE_API_URL", "RASA_URL", "ISSUE_API_DB", "GATEWAY_DB", "ACTIONS_OUTBOX_DB"):
        env.pop(name, None)
    proc = subprocess.Popen(["make", "run-scaled"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True)
    try:
        deadline = time.monotonic() + 420  # two Rasa servers load their model on two cores at once
        for name, path in (("issue_api", "/api/v1/health"), ("actions", "/health"), ("rasa", "/"),
                           ("gateway", "/api/v1/health")):
            for replica in (1, 2):
                _wait_ok(f"http://127.0.0.1:{ports[name] + replica}{path}", deadline)
            _wait_ok(f"http://127.0.0.1:{ports[name]}{path}", deadline)
        yield Scaled(ports, proc, tmp / "state", prefix)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output = proc.communicate(timeout=90)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0]
        (tmp / "make-run-scaled.log").write_text(output or "")
        admin = admin_connection()
        with admin.cursor() as cur:
            for kind in ("issues", "gateway", "trackers", "outbox"):
                cur.execute(f'DROP DATABASE IF EXISTS "{prefix}_{kind}" WITH (FORCE)')
        admin.close()


async def frames_until(ws: Any, match, timeout: float = 60) -> list[dict]:  # type: ignore[no-untyped-def]
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        seen.append(frame)
        if match(frame):
            return seen


def text_of(frame: dict) -> str:
    return (frame.get("message") or {}).get("text", "")


def console_client(scaled: Scaled, replica: int) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=scaled.url("gateway", replica), timeout=30)
    page = client.get("/console").text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post("/console/login", json={"username": OPERATOR, "password": PASSWORD},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    page = client.get("/console").text
    return client, page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_every_public_port_is_served_by_haproxy_in_front_of_two_replicas(scaled: Scaled) -> None:
    config = (scaled.var_dir / "haproxy.cfg").read_text()
    for name, port in scaled.ports.items():
        assert f"server {name}_1 127.0.0.1:{port + 1} check" in config
        assert f"server {name}_2 127.0.0.1:{port + 2} check" in config
    health = subprocess.run([str(REPO_ROOT / ".venv/bin/python"), "-m", "bot", "health", "--scaled"], cwd=REPO_ROOT,
                            env={**os.environ, **{f"{k.upper()}_PORT": str(v) for k, v in scaled.ports.items()},
                                 "HOTLINE_VAR_DIR": str(scaled.var_dir)},
                            capture_output=True, text=True)
    assert health.returncode == 0, health.stdout
    assert health.stdout.count(" up ") == 12


def test_a_widget_on_one_gateway_and_a_console_on_the_other_see_the_same_conversation_live(scaled: Scaled) -> None:
    key = secrets.token_urlsafe(16)
    conversation = web_conversation_id(key)
    console, csrf = console_client(scaled, replica=2)

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        cookie = f"gw_session={console.cookies['gw_session']}"
        async with websockets.connect(f"{scaled.ws('gateway', 1)}/ws/chat?sender={key}") as widget, \
                websockets.connect(f"{scaled.ws('gateway', 2)}/ws/console", extra_headers={"Cookie": cookie},
                                   origin=scaled.url("gateway", 2)) as watcher:
            await frames_until(widget, lambda f: f["type"] == "hello")
            await frames_until(watcher, lambda f: f["type"] == "queue")
            await widget.send(json.dumps({"type": "message", "text": "我要转人工"}))
            # Gateway 1 escalates; the console on gateway 2 hears of it through Redis.
            await frames_until(watcher, lambda f: f["type"] == "conversation"
                               and f["conversation"]["id"] == conversation and f["conversation"]["state"] == "waiting")
            assert console.post(f"/api/v1/console/conversations/{conversation}/claim",
                                headers={"X-CSRF-Token": csrf}).status_code == 200
            assert console.post(f"/api/v1/console/conversations/{conversation}/reply", json={"text": "您好，我是人工客服小李"},
                                headers={"X-CSRF-Token": csrf}).status_code == 200
            out["widget"] = await frames_until(widget, lambda f: text_of(f) == "您好，我是人工客服小李")
            await widget.send(json.dumps({"type": "message", "text": "我们园区停电了"}))
            out["console"] = await frames_until(watcher, lambda f: f["type"] == "message"
                                                and text_of(f) == "我们园区停电了")
        return out

    seen = run(scenario())
    assert seen["widget"][-1]["message"]["role"] == "operator"
    assert any(f["type"] == "state" and f["state"] == "operator" for f in seen["widget"])
    assert seen["console"][-1]["conversation_id"] == conversation
    queue = console.get("/api/v1/console/queue").json()
    assert any(item["id"] == conversation and item["operator"] == OPERATOR for item in queue["items"])


def test_a_killed_gateway_loses_no_conversation_and_comes_back(scaled: Scaled) -> None:
    key = secrets.token_urlsafe(16)
    conversation = web_conversation_id(key)
    console, csrf = console_client(scaled, replica=2)
    victim = _pid_listening(scaled.ports["gateway"] + 1)

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with websockets.connect(f"{scaled.ws('gateway', 1)}/ws/chat?sender={key}") as widget:
            await frames_until(widget, lambda f: f["type"] == "hello")
            await widget.send(json.dumps({"type": "message", "text": "我要转人工"}))
            await frames_until(widget, lambda f: f.get("state") == "waiting" or "人工" in text_of(f)
                               and f["message"]["role"] == "system")
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(frames_until(widget, lambda f: False), 10)
        # The widget reconnects through the balancer: the other gateway knows the conversation.
        assert console.post(f"/api/v1/console/conversations/{conversation}/claim",
                            headers={"X-CSRF-Token": csrf}).status_code == 200
        async with websockets.connect(f"{scaled.ws('gateway')}/ws/chat?sender={key}") as widget:
            out["hello"] = (await frames_until(widget, lambda f: f["type"] == "hello"))[-1]
            assert console.post(f"/api/v1/console/conversations/{conversation}/handback",
                                headers={"X-CSRF-Token": csrf}).status_code == 200
            await widget.send(json.dumps({"type": "message", "text": "你好"}))
            out["bot"] = await frames_until(widget, lambda f: f["type"] == "message"
                                            and f["message"]["role"] == "bot")
        return out

    seen = run(scenario())
    assert seen["hello"]["state"] == "operator"
    assert [m["text"] for m in seen["hello"]["messages"]][0] == "我要转人工"
    assert seen["bot"][-1]["message"]["text"]
    _wait_ok(f"{scaled.url('gateway', 1)}/api/v1/health", time.monotonic() + 60)  # supervisord restarted it
    assert _pid_listening(scaled.ports["gateway"] + 1) != victim


def test_a_killed_rasa_server_is_routed_around_and_restarted(scaled: Scaled) -> None:
    victim = _pid_listening(scaled.ports["rasa"] + 1)
    os.kill(victim, signal.SIGKILL)
    answered = 0
    with httpx.Client(base_url=scaled.url("gateway"), timeout=60) as client:
        key = secrets.token_urlsafe(16)

        async def chat() -> int:
            count = 0
            async with websockets.connect(f"{scaled.ws('gateway')}/ws/chat?sender={key}") as widget:
                await frames_until(widget, lambda f: f["type"] == "hello")
                for text in ("你好", "我想查询工单", "谢谢"):
                    await widget.send(json.dumps({"type": "message", "text": text}))
                    frames = await frames_until(widget, lambda f: f["type"] == "message"
                                                and f["message"]["role"] in ("bot", "system"))
                    count += bool(text_of(frames[-1]))
            return count

        answered = run(chat())
        assert client.get("/api/v1/health").status_code == 200
    assert answered == 3
    _wait_ok(f"{scaled.url('rasa', 1)}/", time.monotonic() + 240)
    assert _pid_listening(scaled.ports["rasa"] + 1) != victim


def test_the_gateways_keep_their_state_in_postgresql(scaled: Scaled) -> None:
    engine = sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{scaled.prefix}_gateway")
    with engine.connect() as conn:
        conversations = conn.execute(sa.text("SELECT count(*) FROM conversations")).scalar()
        sessions = conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar()
    engine.dispose()
    assert conversations >= 1 and sessions >= 1
