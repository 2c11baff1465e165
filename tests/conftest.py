"""Session-wide live servers shared by every test package (issue API, action server, Rasa server).

Started lazily: a test run that needs none of them starts none of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import pytest

from tests.support.servers import ServerProcess
from tests.support.stack import start_action_server, start_issue_api, start_rasa_server


@dataclass
class LiveServer:
    """A running process and where to reach it."""

    process: ServerProcess
    url: str
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def issue_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    proc, url, tokens = start_issue_api(tmp_path_factory.mktemp("issue_api"))
    yield LiveServer(proc, url, tokens)
    proc.stop()


@pytest.fixture(scope="session")
def action_server(issue_api: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    proc, url = start_action_server(issue_api.url, issue_api.tokens["bot"], tmp_path_factory.mktemp("actions"))
    yield LiveServer(proc, url)
    proc.stop()


@pytest.fixture(scope="session")
def rasa_server(action_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    proc, url = start_rasa_server(action_server.url, tmp_path_factory.mktemp("rasa"))
    yield LiveServer(proc, url)
    proc.stop()
