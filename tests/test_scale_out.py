"""The scale-out configuration: two Rasa servers share conversations in PostgreSQL (SQL tracker
store) and serialise turns of one conversation with a Redis lock store (endpoints.scale.yml)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import redis
import requests

from tests.support.postgres import fresh_database
from tests.support.servers import REPO_ROOT, ServerProcess, free_port, venv_tool
from tests.support.stack import (
    ACTION_SERVER_TOKEN, MODEL_PATH, RASA_API_TOKEN, start_action_server, start_issue_api,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def tracker_database():
    with fresh_database("rasa_scale") as name:
        yield name


def _start_rasa(action_url: str, database: str, tmp_path, index: int) -> tuple[ServerProcess, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        [
            venv_tool("rasa"), "run", "--enable-api", "--auth-token", RASA_API_TOKEN, "-i", "127.0.0.1", "-p", str(port),
            "--model", str(MODEL_PATH),
            "--endpoints", str(REPO_ROOT / "endpoints.scale.yml"),
            "--credentials", str(REPO_ROOT / "credentials.yml"),
        ],
        health_url=f"{url}/status?token={RASA_API_TOKEN}",
        env={
            "ACTION_SERVER_URL": f"{action_url}/webhook", "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
            "RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": "5432", "RASA_DB_NAME": database,
            "RASA_DB_USER": "postgres", "RASA_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        },
        log_path=tmp_path / "logs" / f"rasa_{index}.log",
        startup_timeout=300,
    )
    return server, url


def _say(url: str, sender: str, text: str) -> list[dict]:
    response = requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the model trained by make setup")
def test_two_rasa_servers_share_conversations_through_postgres_and_redis(tmp_path, tracker_database):
    api, api_url, tokens = start_issue_api(tmp_path / "api")
    actions, action_url = start_action_server(api_url, tokens["bot"], tmp_path / "actions")
    first, first_url = _start_rasa(action_url, tracker_database, tmp_path, 1)
    second, second_url = _start_rasa(action_url, tracker_database, tmp_path, 2)
    try:
        with ThreadPoolExecutor(2) as pool:  # load both models at once
            list(pool.map(lambda server: server.start(), (first, second)))

        sender = f"scale-{uuid.uuid4().hex[:8]}"
        assert _say(first_url, sender, "你好"), "the first server answered nothing"
        assert _say(second_url, sender, "谢谢"), "the second server answered nothing"

        # Both turns are in one conversation, whichever server took them.
        for url in (first_url, second_url):
            tracker = requests.get(f"{url}/conversations/{sender}/tracker", params={"token": RASA_API_TOKEN},
                                   timeout=30).json()
            said = [event["text"] for event in tracker["events"] if event["event"] == "user"]
            assert said == ["你好", "谢谢"], said

        # Concurrent turns of one conversation on both servers: none is lost.
        texts = [f"我想问一下第{i}件事" for i in range(10)]
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda i: _say((first_url, second_url)[i % 2], sender, texts[i]), range(10)))
        with psycopg2.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={tracker_database}") as db:
            with db.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'", (sender,)
                )
                assert cur.fetchone()[0] == 12

        # The lock store is the Redis server: both Rasa processes hold connections to its db 1.
        clients = redis.Redis(host="127.0.0.1", port=6379).client_list()
        assert sum(1 for client in clients if str(client.get("db")) == "1") >= 2
    finally:
        for server in (second, first, actions, api):
            server.stop()
