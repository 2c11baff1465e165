"""The issue API's callback routes as the plan (issue 11) describes them, in memory, recording every
request: for dialer tests that need a schedule without the callback hours of the real one.

GET /api/v1/callbacks?due=true&channel=, POST /api/v1/callbacks/{id}/claim (lease), POST
/api/v1/callbacks/{id}/attempts, POST /api/v1/tickets/{id}/rating; the operator token only.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.servers import free_port

OPERATOR_TOKEN = "fake-operator-token"


class FakeIssueApi:
    def __init__(self, lease_seconds: float = 600, retry_seconds: float = 3600, max_attempts: int = 3) -> None:
        self.lease_seconds, self.retry_seconds, self.max_attempts = lease_seconds, retry_seconds, max_attempts
        self.tickets: dict[str, dict[str, Any]] = {}
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                url = urlparse(self.path)
                with fake.lock:
                    fake.requests.append((method, url.path, body))
                    if self.headers.get("Authorization") != f"Bearer {OPERATOR_TOKEN}":
                        status, data = 401, {"error": {"code": "unauthorized", "message": "未授权"}}
                    else:
                        status, data = fake.route(method, url.path, parse_qs(url.query), body or {})
                raw = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    # -- state ------------------------------------------------------------------------------------------
    def add_resolved_ticket(self, ticket_id: str, phone: str, result: str, channel: str = "voice") -> None:
        with self.lock:
            self.tickets[ticket_id] = {"id": ticket_id, "phone": phone, "result": result, "status": "resolved",
                                       "contact_name": "张伟", "company": "西安测试科技有限公司",
                                       "description": "园区门口路灯坏了", "department": "市政公用服务中心",
                                       "resolved_at": "2026-12-01T10:00:00+08:00", "conversation_id": None,
                                       "rating": None}
            self.callbacks[ticket_id] = {"ticket_id": ticket_id, "channel": channel, "status": "pending",
                                         "attempts": 0, "next_attempt_at": time.time(), "lease_until": None,
                                         "last_outcome": None}

    def claim(self, ticket_id: str) -> None:
        """As a dialer's claim would (the call is in progress)."""
        with self.lock:
            self.callbacks[ticket_id].update(status="calling", lease_until=time.time() + self.lease_seconds)

    def _due(self, cb: dict[str, Any]) -> bool:
        now = time.time()
        if cb["status"] == "calling":
            return cb["lease_until"] <= now
        return cb["status"] == "pending" and cb["next_attempt_at"] <= now

    def posted(self, kind: str) -> list[tuple[str, Any]]:
        """(path, body) of the POSTs to one kind of route: claim, attempts, rating."""
        with self.lock:
            return [(path, body) for method, path, body in self.requests if method == "POST" and path.endswith(kind)]

    # -- routes -----------------------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and path == "/api/v1/callbacks":
            items = [cb for cb in self.callbacks.values()
                     if (query.get("due") != ["true"] or self._due(cb))
                     and (not query.get("channel") or cb["channel"] == query["channel"][0])]
            limit = int(query.get("limit", ["50"])[0])
            return 200, {"items": [{**{k: v for k, v in cb.items() if k != "lease_until"},
                                    "ticket": self.tickets[cb["ticket_id"]]} for cb in items[:limit]]}
        match = re.fullmatch(r"/api/v1/callbacks/(\w+)/(claim|attempts)", path)
        if method == "POST" and match:
            cb = self.callbacks.get(match[1])
            if cb is None:
                return 404, {"error": {"code": "callback_not_found", "message": "没有这个回访"}}
            if match[2] == "claim":
                if not self._due(cb):
                    return 409, {"error": {"code": "callback_not_due", "message": "回访未到时间或正在进行"}}
                cb.update(status="calling", lease_until=time.time() + self.lease_seconds)
                return 200, cb
            if cb["status"] != "calling":
                return 409, {"error": {"code": "callback_not_calling", "message": "该回访任务尚未领取"}}
            outcome = body.get("outcome")
            cb["attempts"] += 1
            cb["last_outcome"] = outcome
            if outcome == "declined":
                cb["status"] = "done"
            elif cb["attempts"] >= self.max_attempts:
                cb["status"] = "failed"
            else:
                cb.update(status="pending", next_attempt_at=time.time() + self.retry_seconds)
            cb["lease_until"] = None
            return 200, cb
        match = re.fullmatch(r"/api/v1/tickets/(\w+)/rating", path)
        if method == "POST" and match:
            ticket = self.tickets.get(match[1])
            if ticket is None:
                return 404, {"error": {"code": "ticket_not_found", "message": "未找到该工单"}}
            if ticket["status"] != "resolved":
                return 409, {"error": {"code": "rate_not_allowed", "message": "该工单已经评价过了"}}
            score = int(body["score"])
            ticket.update(rating={"score": score}, status="in_progress" if score <= 2 else "closed")
            self.callbacks[match[1]]["status"] = "done"
            return 200, ticket
        return 404, {"error": {"code": "not_found", "message": "没有这个地址"}}

    def __enter__(self) -> "FakeIssueApi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
