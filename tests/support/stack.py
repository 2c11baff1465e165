"""Start the hotline's real back-end processes (issue API, action server, Rasa server) on free ports.

Shared by the conversation, voice and gateway tests so that every part is tested against the same
processes `make run` starts, each with its own throw-away state under the test's tmp directory.
"""
from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.support.servers import REPO_ROOT, ServerProcess, free_port, python_cmd, venv_tool

# Tokens the test issue API accepts; fixtures hand them to whoever needs a role.
TEST_TOKENS: dict[str, str] = {
    "bot": "test-bot-token",
    "operator": "test-operator-token",
    "department": "test-department-token",
    "admin": "test-admin-token",
}

# Rasa's HTTP API (trackers, /status, /model/parse) answers only with this token (`--auth-token`).
RASA_API_TOKEN = "test-rasa-api-token"
# What the test Rasa servers show the test action servers (endpoints.yml `token:`).
ACTION_SERVER_TOKEN = "test-action-server-token"

# The department account of the tests is one department's (contract: department/<name>:TOKEN).
TEST_ACCOUNTS: dict[str, str] = {"department": "department/市政公用服务中心"}

MODEL_PATH = REPO_ROOT / "models" / "hotline.tar.gz"


def start_issue_api(
    tmp_path: Path,
    port: int | None = None,
    db_url: str | None = None,
    tokens: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[ServerProcess, str, dict[str, str]]:
    """`python -m issue_api` on a free port, by default with a fresh SQLite database in `tmp_path`.

    `port` lets a test restart the API on the same address after stopping it (outbox tests). The
    log goes to tmp_path/logs/issue_api_<port>.log (`server.log_path`).
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    tokens = dict(tokens or TEST_TOKENS)
    server = ServerProcess(
        python_cmd("-m", "issue_api"),
        health_url=f"{url}/api/v1/health",
        env={
            "ISSUE_API_HOST": "127.0.0.1",
            "ISSUE_API_PORT": str(port),
            "ISSUE_API_DB": db_url or f"sqlite:///{tmp_path / 'issues.db'}",
            "ISSUE_API_TOKENS": ",".join(f"{TEST_ACCOUNTS.get(role, role)}:{token}" for role, token in tokens.items()),
            **(extra_env or {}),
        },
        log_path=tmp_path / "logs" / f"issue_api_{port}.log",
        startup_timeout=60,
    ).start()
    return server, url, tokens


def start_action_server(
    issue_api_url: str, bot_token: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[ServerProcess, str]:
    """`rasa run actions` on a free port, talking to `issue_api_url`, its outbox in `tmp_path`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        [venv_tool("rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
        health_url=f"{url}/health",
        env={
            "ISSUE_API_URL": issue_api_url,
            "ISSUE_API_TOKEN": bot_token,
            "ACTIONS_OUTBOX_DB": str(tmp_path / "outbox.db"),
            # Deliver quickly in tests; production default is slower.
            "ACTIONS_OUTBOX_INTERVAL": "0.5",
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
            **(extra_env or {}),
        },
        log_path=tmp_path / "logs" / "action_server.log",
        startup_timeout=90,
    ).start()
    return server, url


def write_endpoints(action_url: str, tmp_path: Path) -> Path:
    """An endpoints.yml like the embedded default, but pointing at this test's action server and DB."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n"
        f"  url: \"{action_url}/webhook\"\n"
        f"  token: \"{ACTION_SERVER_TOKEN}\"\n"
        "  enable_selective_domain: true\n"
        "tracker_store:\n"
        "  type: bot.rasa_plugins.tracker_store.HotlineSQLTrackerStore\n"
        "  dialect: sqlite\n"
        f"  db: \"{tmp_path / 'trackers.db'}\"\n"
        "lock_store:\n"
        "  type: bot.rasa_plugins.sqlite_lock_store.SQLiteLockStore\n"
        f"  db: \"{tmp_path / 'locks.db'}\"\n",
        encoding="utf-8",
    )
    return path


def start_rasa_server(
    action_url: str, tmp_path: Path, model: Path = MODEL_PATH, environment: dict[str, str] | None = None
) -> tuple[ServerProcess, str]:
    """`rasa run --enable-api` with the trained model; returns once /status reports the model loaded.
    `environment`: more variables for the server (e.g. `make run`'s Sanic workers)."""
    if not Path(model).exists():
        raise RuntimeError(f"no trained model at {model}: run `make setup` (or `make train`) first")
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    endpoints = write_endpoints(action_url, tmp_path)
    server = ServerProcess(
        [
            venv_tool("rasa"), "run", "--enable-api", "--auth-token", RASA_API_TOKEN,
            "-i", "127.0.0.1", "-p", str(port),
            "--model", str(model),
            "--endpoints", str(endpoints),
            "--credentials", str(REPO_ROOT / "credentials.yml"),
        ],
        health_url=f"{url}/status?token={RASA_API_TOKEN}",
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false", **(environment or {})},
        log_path=tmp_path / "logs" / "rasa_server.log",
        startup_timeout=300,
    ).start()
    _wait_for_model(server, url)
    return server, url


def _wait_for_model(server: ServerProcess, url: str, timeout: float = 60.0) -> None:
    """/status can answer before the agent is ready; wait until it names a loaded model."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = requests.get(f"{url}/status", params={"token": RASA_API_TOKEN}, timeout=2).json()
            if status.get("model_id") or status.get("model_file"):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"Rasa server at {url} did not load a model in {timeout}s")
