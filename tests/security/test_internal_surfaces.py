"""Finding 8: `make run` started Rasa with `--enable-api --cors '*'` and no `--auth-token`: any local
process or web page could read trackers or replace the model. Rasa's HTTP API now needs a token and
sends no CORS grant; the action server answers only the Rasa server (its token, or loopback)."""
from __future__ import annotations

import os
import re
import socket

import pytest
import requests

from tests.support.servers import REPO_ROOT, ServerProcess, free_port, venv_tool
from tests.support.stack import ACTION_SERVER_TOKEN, RASA_API_TOKEN
from contract.internal_access import allowed, is_loopback

pytestmark = pytest.mark.slow


def test_make_run_starts_rasa_with_a_token_and_without_cors() -> None:
    from bot.ops.rasa_server import rasa_argv
    from bot.ops.topology import single_topology

    [rasa] = [program for program in single_topology({}) if program.name == "rasa"]
    assert "-m bot.ops.rasa_server" in rasa.command and "--cors" not in rasa.command
    assert rasa_argv(["--port", "5005"], "s3cret")[-1] == "--auth-token=s3cret"
    assert "--enable-api" in rasa_argv([], "s3cret")


def test_a_generated_rasa_token_that_starts_with_a_dash_still_reaches_rasa() -> None:
    from rasa.__main__ import create_argument_parser

    from bot.ops.rasa_server import rasa_argv

    parsed = create_argument_parser().parse_args(rasa_argv(["--port", "5005"], "-Xy_3k")[1:])
    assert parsed.auth_token == "-Xy_3k" and parsed.enable_api and parsed.port == 5005
    assert re.search(r"RASA_API_TOKEN", (REPO_ROOT / "scripts" / "run.sh").read_text())


def test_the_rasa_token_is_never_on_a_command_line_that_ps_shows() -> None:
    from bot.ops.topology import scaled_topology, single_topology

    commands = [p.command for p in single_topology({}) + scaled_topology({}) if p.name.startswith("rasa")]
    assert commands and not any("auth-token" in c or "RASA_API_TOKEN" in c for c in commands)
    units = (REPO_ROOT / "deploy" / "systemd").glob("*.service")
    assert not any("auth-token" in unit.read_text() for unit in units)


def test_rasa_refuses_to_start_without_a_token_rather_than_open_its_api() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "RASA_API_TOKEN"}
    started = subprocess.run([sys.executable, "-m", "bot.ops.rasa_server", "--port", "1"], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0 and "RASA_API_TOKEN is empty" in started.stderr
    given = subprocess.run([sys.executable, "-m", "bot.ops.rasa_server", "--auth-token", "x"], cwd=REPO_ROOT,
                           env={**env, "RASA_API_TOKEN": "y"}, capture_output=True, text=True, timeout=60)
    assert given.returncode != 0 and "not as --auth-token" in given.stderr


def test_make_run_sends_rasas_actions_to_the_action_server_it_started() -> None:
    from bot.ops.topology import single_topology

    programs = {p.name: p for p in single_topology({"ACTIONS_PORT": "18055"})}
    assert "--port 18055" in programs["actions"].command
    assert programs["rasa"].environment["ACTION_SERVER_URL"] == "http://127.0.0.1:18055/webhook"
    assert "${ACTION_SERVER_URL}" in (REPO_ROOT / "endpoints.yml").read_text()


def test_rasas_http_api_needs_the_token_and_grants_no_cross_origin_reads(rasa_server) -> None:
    tracker = f"{rasa_server.url}/conversations/someone/tracker"
    assert requests.get(tracker, timeout=10).status_code == 401
    assert requests.put(f"{rasa_server.url}/model", json={"model_file": "/tmp/x.tar.gz"}, timeout=10).status_code == 401
    page = requests.get(tracker, params={"token": RASA_API_TOKEN}, headers={"Origin": "https://evil.example"},
                        timeout=10)
    assert page.status_code == 200 and "access-control-allow-origin" not in page.headers


def test_the_action_server_answers_only_the_rasa_server(action_server) -> None:
    call = {"next_action": "action_handoff", "sender_id": "x", "tracker": {"sender_id": "x", "slots": {},
            "latest_message": {}, "events": []}, "domain": {}, "version": "3.6.21"}
    assert requests.post(f"{action_server.url}/webhook", json=call, timeout=10).status_code == 401
    assert requests.post(f"{action_server.url}/webhook", json=call, params={"token": "wrong"}, timeout=10).status_code == 401
    assert requests.post(f"{action_server.url}/webhook", json=call, params={"token": ACTION_SERVER_TOKEN},
                         timeout=10).status_code == 200


def _lan_address() -> str | None:
    """This machine's address on a network interface, if it has one (the route needs no traffic)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_loopback(address) else address


def test_without_a_token_only_callers_on_this_machine_are_served(tmp_path) -> None:
    assert allowed("", None, "127.0.0.1") and allowed("", None, "::1")
    assert not allowed("", None, "10.0.0.5") and not allowed("t", None, "127.0.0.1")
    assert allowed("t", "t", "10.0.0.5")
    address = _lan_address()
    if address is None:
        pytest.skip("no network interface besides loopback to call from")
    port = free_port()
    with ServerProcess([venv_tool("rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
                       health_url=f"http://127.0.0.1:{port}/health", env={"SANIC_HOST": "0.0.0.0",
                       "ACTIONS_OUTBOX_WORKER": "0", "ACTION_SERVER_TOKEN": "",
                       "HOTLINE_VAR_DIR": str(tmp_path)}, log_path=tmp_path / "actions.log", startup_timeout=90):
        remote = requests.post(f"http://{address}:{port}/webhook", json={}, timeout=10)
        assert remote.status_code == 401
        local = requests.post(f"http://127.0.0.1:{port}/webhook", json={}, timeout=10)
        assert local.status_code != 401


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},  # any page a browser on this machine opens
    {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "cross-site"},
    {"Content-Type": "text/plain"},  # how a form posts JSON
    {"Host": "rebind.attacker.example"},  # a name rebound to 127.0.0.1: the page could read the answer
])
def test_a_browser_on_this_machine_is_no_loopback_caller(headers) -> None:
    assert not allowed("", None, "127.0.0.1", headers)
    assert allowed("t", "t", "127.0.0.1", headers)  # the token is the proof, from anywhere


def test_the_projects_own_clients_are_loopback_callers() -> None:
    for headers in ({"Host": "127.0.0.1:5005", "Content-Type": "application/json"}, {"Host": "localhost:5005"},
                    {"Host": "[::1]:5005"}, {"Host": "127.0.0.1:5005", "Content-Type": "application/x-www-form-urlencoded"},
                    {"Host": f"{socket.gethostname()}:5005"}, {}):
        assert allowed("", None, "127.0.0.1", headers), headers


@pytest.mark.parametrize("path, body", [
    ("webhook", '{"sender": "csrf-probe", "message": "查一下我名下的工单", "metadata": {"phone": "13900001111"}}'),
    ("operator_turns", '{"sender": "csrf-probe", "texts": ["您的工单已办结"], "ticket_id": "20261203001"}'),
])
def test_the_rest_channel_refuses_a_page_posting_to_it_through_a_browser(rasa_server, path, body) -> None:
    url = f"{rasa_server.url}/webhooks/rest/{path}"
    for headers in ({"Content-Type": "text/plain", "Origin": "http://evil.example"},
                    {"Content-Type": "application/json", "Host": "rebind.attacker.example"}):
        refused = requests.post(url, data=body.encode(), headers=headers, timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert requests.post(url, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=30).ok


def test_a_dead_rasa_servers_conversation_locks_expire_before_the_gateway_stops_waiting() -> None:
    from actions.settings import Settings as ActionSettings
    from bot.gateway.settings import GatewaySettings
    from bot.ops.topology import scaled_topology, single_topology

    waits = GatewaySettings.__fields__["rasa_timeout"].default
    turn = 3 * ActionSettings.__fields__["call_budget"].default
    for program in single_topology({}) + scaled_topology({}):
        if program.name.startswith("rasa"):
            assert turn < float(program.environment["TICKET_LOCK_LIFETIME"]) < waits
    unit = (REPO_ROOT / "deploy" / "systemd" / "hotline-rasa@.service").read_text()
    assert "TICKET_LOCK_LIFETIME=20" in unit
