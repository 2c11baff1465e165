"""A slow issue API must not stall other conversations: actions run the blocking client in a
thread pool, so the action server's event loop keeps answering."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.actions.webhook import run_action, texts
from tests.support.stack import start_action_server

DELAY = 2.0


class SlowApi(BaseHTTPRequestHandler):
    """Answers every call correctly, but only after DELAY seconds."""

    def do_GET(self):
        time.sleep(DELAY)
        body = json.dumps({"items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def slow_action_server(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    process, actions_url = start_action_server(url, "slow-token", tmp_path_factory.mktemp("slow"),
                                               {"ACTIONS_OUTBOX_WORKER": "0"})
    yield actions_url
    process.stop()
    server.shutdown()


def _lookup(url, phone):
    started = time.monotonic()
    result = run_action(url, "action_followup", text="查一下我的工单", intent="check_ticket",
                        slots={"followup_op": "check"}, metadata={"phone": phone})
    return time.monotonic() - started, result


def test_a_slow_api_call_does_not_delay_another_conversation(slow_action_server):
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(_lookup, slow_action_server, "13811112222")
        time.sleep(0.3)  # the lookup is now waiting on the slow API
        started = time.monotonic()
        quick = run_action(slow_action_server, "action_fallback", text="asdfgh", intent="nlu_fallback",
                           sender="another-caller")
        quick_elapsed = time.monotonic() - started
        slow_elapsed, slow_result = slow.result()
    assert "没太听明白" in texts(quick)
    assert quick_elapsed < 0.5, f"another conversation waited {quick_elapsed:.2f}s"
    assert slow_elapsed >= DELAY
    assert "没有查到" in texts(slow_result)


def test_slow_calls_of_several_conversations_overlap(slow_action_server):
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: _lookup(slow_action_server, f"1381111000{i}"), range(4)))
    elapsed = time.monotonic() - started
    assert all("没有查到" in texts(result) for _, result in results)
    assert elapsed < 2 * DELAY, f"4 slow lookups took {elapsed:.2f}s: they ran one after another"
