"""`make run` brings the whole hotline up on embedded defaults, restarts a process that dies while the
others keep serving, and Ctrl-C takes it all down again."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.servers import REPO_ROOT, free_port
from tests.support.stack import ACTION_SERVER_TOKEN, MODEL_PATH, write_endpoints

pytestmark = pytest.mark.slow


def _pid_listening(port: int) -> int:
    """The process listening on a local TCP port (from /proc, as `ss -ltnp` would tell)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inode = fields[9]
    assert inode, f"nothing listens on {port}"
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == f"socket:[{inode}]" for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:
            continue
    raise AssertionError(f"no process owns the socket on {port}")


def _wait_ok(url: str, deadline: float) -> requests.Response:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=2)
            if response.ok:
                return response
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer: {last}")


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the model trained by make setup")
def test_make_run_serves_all_four_processes_and_stops_on_ctrl_c(tmp_path):
    ports = {name: free_port() for name in ("issue_api", "actions", "rasa", "gateway")}
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "HOTLINE_VAR_DIR": str(tmp_path / "state"),
        "ISSUE_API_PORT": str(ports["issue_api"]),
        "ISSUE_API_DB": f"sqlite:///{tmp_path / 'issues.db'}",
        "ISSUE_API_TOKENS": "bot:run-bot,operator:run-operator,admin:run-admin",
        "RASA_API_TOKEN": "run-rasa-api",
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,  # what the test's endpoints.yml sends
        "ACTIONS_PORT": str(ports["actions"]),
        "ACTIONS_OUTBOX_DB": str(tmp_path / "outbox.db"),
        "RASA_PORT": str(ports["rasa"]),
        "RASA_ENDPOINTS": str(write_endpoints(f"http://127.0.0.1:{ports['actions']}", tmp_path)),
        "GATEWAY_PORT": str(ports["gateway"]),
        "GATEWAY_DB": str(tmp_path / "gateway.db"),
        "GATEWAY_OPERATORS": "lead:secret-pass",
    }
    env.pop("ISSUE_API_URL", None)
    env.pop("RASA_URL", None)
    proc = subprocess.Popen(
        ["make", "run"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, text=True,
    )
    try:
        deadline = time.monotonic() + 240
        health = _wait_ok(f"http://127.0.0.1:{ports['issue_api']}/api/v1/health", deadline)
        assert health.status_code == 200
        _wait_ok(f"http://127.0.0.1:{ports['actions']}/health", deadline)
        _wait_ok(f"http://127.0.0.1:{ports['gateway']}/", deadline)
        status = _wait_ok(f"http://127.0.0.1:{ports['rasa']}/status?token=run-rasa-api", deadline).json()
        assert status.get("model_file") or status.get("model_id")

        # The bot answers through the REST channel, and a filing reaches the issue API as the bot.
        reply = requests.post(
            f"http://127.0.0.1:{ports['rasa']}/webhooks/rest/webhook",
            json={"sender": "make-run-smoke", "message": "你好"},
            timeout=30,
        )
        assert reply.ok and reply.json(), reply.text
        assert any("\u4e00" <= ch <= "\u9fff" for m in reply.json() for ch in m.get("text", ""))
        tickets = requests.get(
            f"http://127.0.0.1:{ports['issue_api']}/api/v1/tickets",
            headers={"Authorization": "Bearer run-operator"},
            params={"phone": "13800138000"},
            timeout=5,
        )
        assert tickets.status_code == 200

        # A crash of the Rasa server: supervisord restarts it; meanwhile the others keep serving.
        rasa_pid = _pid_listening(ports["rasa"])
        os.kill(rasa_pid, signal.SIGKILL)
        time.sleep(1)
        assert requests.get(f"http://127.0.0.1:{ports['gateway']}/api/v1/health", timeout=5).ok
        assert requests.get(f"http://127.0.0.1:{ports['issue_api']}/api/v1/health", timeout=5).ok
        _wait_ok(f"http://127.0.0.1:{ports['rasa']}/status?token=run-rasa-api", time.monotonic() + 240)
        assert _pid_listening(ports["rasa"]) != rasa_pid
        again = requests.post(f"http://127.0.0.1:{ports['rasa']}/webhooks/rest/webhook",
                              json={"sender": "make-run-after-crash", "message": "你好"}, timeout=60)
        assert again.ok and again.json()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
    # Ctrl-C stopped every process: nothing answers any more.
    for port in ports.values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert "127.0.0.1:" in output  # it printed where to go
    assert "exited: rasa (terminated by SIGKILL; not expected)" in output  # what died and why...
    assert "spawned: 'rasa'" in output  # ...and that it came back
    # Generated secrets went to the state directory, readable by the owner only.
    local_env = tmp_path / "state" / "local.env"
    assert local_env.exists() and oct(local_env.stat().st_mode & 0o777) == "0o600"
