"""Real Chromium (Debian's /usr/bin/chromium) against a live gateway in front of the real Rasa stack.

The stack (issue API, action server, Rasa server with models/hotline.tar.gz) comes from the session
fixtures in tests/conftest.py. BROWSER_TESTS_RASA_URL may point at a Rasa server that is already
running, to skip its minute-long start while working on the pages.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.servers import ServerProcess, free_port, python_cmd

OPERATOR = ("wang", "wang-pass-1")
# What a voice adapter sends to the channel API (GATEWAY_CHANNEL_TOKEN); the pages never need it.
CHANNEL_TOKEN = "browser-test-channel-token"
CHANNEL_HEADERS = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}
# Real Rasa on a loaded 2-core machine: answers take seconds, not Playwright's default 5.
expect.set_options(timeout=30_000)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser_rasa_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("BROWSER_TESTS_RASA_URL") or request.getfixturevalue("rasa_server").url
    # The first message loads jieba's dictionary (seconds); pay that here, not inside a test's timeout.
    requests.post(f"{url}/webhooks/rest/webhook", json={"sender": "browser-warm-up", "message": "你好"}, timeout=120)
    return url


def gateway_process(rasa_url: str, issue_api, tmp: Path) -> tuple[ServerProcess, str]:
    """A gateway on a free port with its own database; not started yet."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "GATEWAY_DB": str(tmp / "gateway.db"),
        "RASA_URL": rasa_url, "ISSUE_API_URL": issue_api.url,
        "ISSUE_API_TOKEN": issue_api.tokens["operator"], "GATEWAY_OPERATORS": ":".join(OPERATOR),
        "GATEWAY_SECRET": "browser-test-secret", "GATEWAY_CHANNEL_TOKEN": CHANNEL_TOKEN,
    }
    process = ServerProcess(python_cmd("-m", "bot", "gateway"), health_url=f"{url}/api/v1/health", env=env,
                            log_path=tmp / "gateway.log")
    return process, url


@pytest.fixture(scope="session")
def live_gateway(browser_rasa_url: str, issue_api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = gateway_process(browser_rasa_url, issue_api, tmp_path_factory.mktemp("browser_gateway"))
    with process:
        yield url


@pytest.fixture
def own_gateway(browser_rasa_url: str, issue_api, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    """A gateway this test may crash and restart (same port, same database)."""
    process, url = gateway_process(browser_rasa_url, issue_api, tmp_path)
    process.start()
    yield process, url
    process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def fresh_page(browser: Browser, timeout_ms: int = 30_000) -> Iterator[Page]:
    """A page in a context of its own (own cookies), as a separate person's browser."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def user_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser) as page:
        yield page


@pytest.fixture
def operator_page(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser) as page:
        yield page
