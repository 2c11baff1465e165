"""A whole hotline back end of its own for the REST conversation tests: issue API, action server,
Rasa server. Its own (not the session one) because one test takes the issue API down."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest
import requests

from tests.support.servers import ServerProcess
from tests.support.stack import start_action_server, start_issue_api, start_rasa_server


class Said(str):
    """The bot's reply texts of one turn, joined, with the contract's ticket payloads beside them."""

    tickets: list[dict[str, Any]]

    @classmethod
    def of(cls, messages: list[dict[str, Any]]) -> "Said":
        said = cls("\n".join(m.get("text", "") or "" for m in messages))
        said.tickets = [m["custom"]["ticket"] for m in messages
                        if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("ticket"), dict)]
        return said


@dataclass
class Hotline:
    api: ServerProcess
    api_url: str
    api_dir: Path
    tokens: dict[str, str]
    actions_url: str
    rasa_url: str

    def say(self, sender: str, text: str, **metadata: Any) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": metadata}
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def said(self, sender: str, text: str, **metadata: Any) -> "Said":
        return Said.of(self.say(sender, text, **metadata))

    def operator(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens['operator']}"}
        response = requests.request(method, f"{self.api_url}/api/v1{path}", headers=headers,
                                    timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def restart_api(self) -> None:
        self.api.kill()
        self.api, _, _ = start_issue_api(self.api_dir, port=urlparse(self.api_url).port)


@pytest.fixture(scope="package")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    root = tmp_path_factory.mktemp("hotline")
    api, api_url, tokens = start_issue_api(root / "api")
    actions, actions_url = start_action_server(api_url, tokens["bot"], root / "actions")
    rasa, rasa_url = start_rasa_server(actions_url, root / "rasa")
    line = Hotline(api, api_url, root / "api", tokens, actions_url, rasa_url)
    yield line
    rasa.stop()
    actions.stop()
    line.api.stop()
