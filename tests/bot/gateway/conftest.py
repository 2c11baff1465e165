"""Live gateway processes (`python -m bot gateway`) in front of a fake Rasa, on free ports."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from tests.support.servers import ServerProcess, free_port, python_cmd

OPERATORS = {"alice": "alice-pass-1", "bob": "bob-pass-2"}
# The voice adapters' token for the channel API and /ws/audio (GATEWAY_CHANNEL_TOKEN).
CHANNEL_TOKEN = "test-channel-token-0123456789"
CHANNEL_HEADERS = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}


@pytest.fixture(scope="session")
def fake_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("fake_rasa")
    with ServerProcess(python_cmd("-m", "tests.bot.gateway.fake_rasa", "--port", str(port)),
                       health_url=f"{url}/status", log_path=logs / "fake_rasa.log"):
        yield url


class Gateway:
    """A gateway process and the URL it serves, restartable on the same port and database."""

    def __init__(self, rasa_url: str, tmp: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp / "gateway.db"
        self.env = {
            "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.port), "GATEWAY_DB": str(self.db),
            "RASA_URL": rasa_url, "ISSUE_API_URL": "http://127.0.0.1:9", "ISSUE_API_TOKEN": "unused",
            "GATEWAY_OPERATORS": ",".join(f"{k}:{v}" for k, v in OPERATORS.items()),
            "GATEWAY_SECRET": "test-secret", "GATEWAY_CHANNEL_TOKEN": CHANNEL_TOKEN, **env,
        }
        self.log = tmp / "gateway.log"
        self.process: ServerProcess | None = None

    def start(self) -> "Gateway":
        self.process = ServerProcess(python_cmd("-m", "bot", "gateway"), health_url=f"{self.url}/api/v1/health",
                                     env=self.env, log_path=self.log).start()
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def kill(self) -> None:
        if self.process:
            self.process.kill()


@pytest.fixture
def start_gateway(fake_rasa: str, tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    started: list[Gateway] = []

    def start(**env: str) -> Gateway:
        gateway = Gateway(fake_rasa, tmp_path / f"gw{len(started)}", env)
        gateway.db.parent.mkdir(parents=True, exist_ok=True)
        started.append(gateway.start())
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., Gateway]) -> Gateway:
    return start_gateway()


def login(base_url: str, name: str, password: str | None = None) -> tuple[requests.Session, str]:
    """Log in like the console page does; return the session and its CSRF token."""
    session = requests.Session()
    page = session.get(f"{base_url}/console")
    token = _csrf(page.text)
    response = session.post(f"{base_url}/console/login", json={"username": name, "password": password or OPERATORS[name]},
                            headers={"X-CSRF-Token": token})
    response.raise_for_status()
    return session, _csrf(session.get(f"{base_url}/console").text)


def _csrf(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def send(base_url: str, sender: str, text: str, **metadata: str) -> requests.Response:
    """A message through the channel API, as a voice adapter sends it (with the channel token)."""
    return requests.post(f"{base_url}/api/v1/channel/messages", headers=CHANNEL_HEADERS,
                         json={"sender": sender, "message": text, "metadata": metadata}, timeout=10)


def poll(base_url: str, **params: object) -> requests.Response:
    """GET /api/v1/channel/messages with the channel token."""
    return requests.get(f"{base_url}/api/v1/channel/messages", params=params, headers=CHANNEL_HEADERS, timeout=70)
