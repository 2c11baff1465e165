"""Load on the hotline as its users make it, for locust (run by bench/load_bench.py from .venv-load).

- `WebFiler`: a web user who reports a problem through the widget's socket and answers whatever the
  bot asks (company, name, phone, category, confirmation) until the bot tells the ticket number.
- `HumanSeeker`: a web user who asks for a person and waits for an operator's answer.
- `Operator`: an operator in the console who takes waiting conversations, answers and hands them back.
- `Caller`: a caller on the gateway's audio socket (/ws/audio) speaking a recorded utterance.
- `ConsoleWatcher`: an operator's console open on the live socket, reconnecting when it drops.

Every message a user sends ends in one outcome, written to LOAD_RESULTS (one JSON line each):
`answered` (the bot or an operator replied), `notice` (the hotline said why not: bot unavailable, an
error notice), `disconnected` (the socket dropped: the widget says it reconnects, and the user sends
the message again once it has) or `silent` (nothing within LOAD_ANSWER_TIMEOUT while connected: a
loss). Filers also write the ticket numbers they were told (or that their report was kept until
the ticket service is back), so the bench can check that each report became exactly one ticket. Configuration comes from the environment (LOAD_*), set by bench/load_bench.py.
"""
from __future__ import annotations

import json
import os
import random
import re
import secrets
import time
import wave
from typing import Any, Optional

import requests
import websocket
from locust import User, between, constant, events, task

GATEWAY = os.environ.get("LOAD_GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")
WS = GATEWAY.replace("http", "ws", 1)
RESULTS = os.environ.get("LOAD_RESULTS", "load-results.jsonl")
OPERATORS = [o for o in os.environ.get("LOAD_OPERATORS", "").split(",") if o]  # name:password,...
CHANNEL_TOKEN = os.environ.get("LOAD_CHANNEL_TOKEN", "")
CALLER_WAV = os.environ.get("LOAD_CALLER_WAV", "")
ANSWER_TIMEOUT = float(os.environ.get("LOAD_ANSWER_TIMEOUT", "60"))
THINK = float(os.environ.get("LOAD_THINK_SECONDS", "2"))
RUN = os.environ.get("LOAD_RUN", secrets.token_hex(3))

TICKET = re.compile(r"工单编号(?:是|为)?[:：]?(\d{8,12})")
_results = open(RESULTS, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the run


def record(**row: Any) -> None:
    _results.write(json.dumps({"at": time.time(), "run": RUN, **row}, ensure_ascii=False) + "\n")


def fire(name: str, started: float, error: Optional[str] = None) -> None:
    events.request.fire(request_type="WS", name=name, response_time=(time.monotonic() - started) * 1000,
                        response_length=0, exception=Exception(error) if error else None, context={})


class ChatSocket:
    """The widget's socket, reconnecting the way widget.js does."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.ws: Optional[websocket.WebSocket] = None

    def connect(self, deadline_s: float = 90.0) -> dict:
        deadline, delay = time.monotonic() + deadline_s, 0.5
        while True:
            try:
                self.ws = websocket.create_connection(f"{WS}/ws/chat?sender={self.key}", timeout=10)
                while True:
                    frame = json.loads(self.ws.recv())
                    if frame.get("type") == "hello":
                        return frame
            except (OSError, websocket.WebSocketException, ValueError):
                self.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass
        self.ws = None

    def say(self, text: str, name: str) -> tuple[str, list[str]]:
        """Send `text`; the outcome and the texts that answered it. A dropped socket is reconnected
        and the message sent again (as a person would retype it), so the conversation goes on."""
        for attempt in range(4):
            if self.ws is None:
                self.connect()
            started = time.monotonic()
            self.first_reply = None
            try:
                self.ws.send(json.dumps({"type": "message", "text": text}))
                outcome, texts = self._answer(started)
            except (OSError, websocket.WebSocketException):
                outcome, texts = "disconnected", []
            answered_at = self.first_reply or time.monotonic()
            record(kind="message", user=name, text=text, outcome=outcome, ms=(answered_at - started) * 1000,
                   replies=[t[:80] for t in texts])
            events.request.fire(request_type="WS", name=f"{name} message", response_time=(answered_at - started) * 1000,
                                response_length=0, context={},
                                exception=None if outcome in ("answered", "notice") else Exception(outcome))
            if outcome != "disconnected":
                return outcome, texts
            self.close()
            # Reconnected, the widget shows the history: if the message was answered meanwhile the
            # person reads the answer there; only a message nobody answered is sent again.
            replies = self._answered_in(self.connect(), text)
            if replies:
                return "answered", replies
        return "disconnected", []

    @staticmethod
    def _answered_in(hello: dict, text: str) -> list[str]:
        messages = hello.get("messages") or []
        mine = [i for i, m in enumerate(messages) if m.get("role") == "user" and m.get("text") == text]
        if not mine:
            return []
        return [("@" if m["role"] == "operator" else "") + m.get("text", "")
                for m in messages[mine[-1] + 1:] if m.get("role") in ("bot", "operator", "system")]

    def _answer(self, started: float) -> tuple[str, list[str]]:
        """What answered the message just sent; operator messages are marked with a leading "@"."""
        texts: list[str] = []
        outcome = "silent"
        self.ws.settimeout(ANSWER_TIMEOUT)
        while True:
            try:
                frame = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return (outcome if texts else "silent"), texts
            kind = frame.get("type")
            if kind == "notice":
                texts.append(frame.get("text", ""))
                outcome = "notice" if outcome == "silent" else outcome
            elif kind == "message" and frame["message"].get("role") in ("bot", "operator", "system"):
                role = frame["message"]["role"]
                texts.append(("@" if role == "operator" else "") + frame["message"].get("text", ""))
                outcome = "answered" if role in ("bot", "operator") else ("notice" if outcome == "silent" else outcome)
            else:
                continue
            self.first_reply = self.first_reply or time.monotonic()
            # The replies of one turn arrive together: collect what follows within a moment.
            self.ws.settimeout(0.4)


def answer_for(question: str, person: dict[str, str]) -> str:
    if "核对" in question or "对吗" in question:  # the read-back before filing names every field
        return "对"
    if "单位" in question or "公司名称" in question:
        return person["company"]
    if "称呼" in question or "姓名" in question:
        return person["name"]
    if "电话" in question:
        return person["phone"]
    if "哪一类" in question:
        return "市政设施"
    if "具体说说" in question:
        return person["problem"]
    return "对"


class WebFiler(User):
    """Reports a problem by chat and stays until told the ticket number."""

    weight = 8
    wait_time = between(1, 3)

    @task
    def file_a_report(self) -> None:
        n = random.randrange(10**8)
        person = {"company": f"西安{random.choice('华清卓越博远天成')}智能科技有限公司", "name": "我叫王伟",
                  "phone": f"139{n:08d}", "problem": "我们园区门口的路灯坏了好几天了，晚上很不安全"}
        chat = ChatSocket(secrets.token_urlsafe(16))
        chat.connect()
        started = time.monotonic()
        text = person["problem"]
        try:
            for _ in range(12):
                outcome, replies = chat.say(text, "filer")
                told = TICKET.search(re.sub(r"\s", "", " ".join(replies)))
                if told:
                    ticket = told.group(1)
                    record(kind="ticket", phone=person["phone"], ticket_id=ticket)
                    fire("filing (whole conversation)", started)
                    return
                if any("系统恢复后会自动登记" in r for r in replies):  # kept in the outbox: the bench checks it lands
                    record(kind="queued", phone=person["phone"])
                    fire("filing (whole conversation)", started)
                    return
                if outcome != "answered":
                    time.sleep(THINK)
                    continue  # the same message again, as a person would after a notice
                time.sleep(random.uniform(THINK * 0.5, THINK * 1.5))
                question = next((r for r in reversed(replies) if r), "")
                text = answer_for(question, person)
            record(kind="unfinished", phone=person["phone"])
            fire("filing (whole conversation)", started, "no ticket after 12 messages")
        finally:
            chat.close()


class HumanSeeker(User):
    """Asks for a person and waits for an operator to answer."""

    weight = 1
    wait_time = between(2, 5)

    @task
    def ask_for_a_person(self) -> None:
        chat = ChatSocket(secrets.token_urlsafe(16))
        chat.connect()
        try:
            started = time.monotonic()
            _, replies = chat.say("我要转人工", "seeker")
            if any(r.startswith("@") for r in replies):
                record(kind="operator_answer", ms=(time.monotonic() - started) * 1000)
                fire("operator answer (wait)", started)
                return
            chat.ws.settimeout(1.0)
            while time.monotonic() - started < 120:
                try:
                    frame = json.loads(chat.ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                except (OSError, websocket.WebSocketException):
                    chat.close()
                    chat.connect()
                    chat.ws.settimeout(1.0)
                    continue
                if frame.get("type") == "message" and frame["message"].get("role") == "operator":
                    record(kind="operator_answer", ms=(time.monotonic() - started) * 1000)
                    fire("operator answer (wait)", started)
                    return
            record(kind="operator_answer", ms=None)
            fire("operator answer (wait)", started, "no operator within 120 s")
        finally:
            chat.close()


def console_login(http: requests.Session, account: str) -> str:
    """Log in to the console the way its login page does; the CSRF token of the logged-in page."""
    name, _, password = account.partition(":")

    def csrf() -> str:
        page = http.get(f"{GATEWAY}/console", timeout=30).text
        return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]

    http.post(f"{GATEWAY}/console/login", json={"username": name, "password": password},
              headers={"X-CSRF-Token": csrf()}, timeout=30).raise_for_status()
    return csrf()


class Operator(User):
    """Takes waiting conversations, answers and hands them back."""

    fixed_count = 2
    wait_time = constant(1)

    _accounts_taken = 0

    def on_start(self) -> None:
        self.http = requests.Session()
        self.csrf = ""
        # Each operator user logs in with an account of its own (two people, two names).
        self.account = OPERATORS[Operator._accounts_taken % len(OPERATORS)]
        Operator._accounts_taken += 1
        self._log_in()

    def _log_in(self) -> None:
        self.csrf = console_login(self.http, self.account)

    @task
    def serve_the_queue(self) -> None:
        started = time.monotonic()
        try:
            queue = self.http.get(f"{GATEWAY}/api/v1/console/queue", timeout=30)
            if queue.status_code == 401:
                self._log_in()
                return
            queue.raise_for_status()
        except requests.RequestException as exc:
            fire("console queue", started, str(exc))
            return
        fire("console queue", started)
        waiting = [c for c in queue.json()["items"] if c["state"] == "waiting"]
        if not waiting:
            return
        conversation = random.choice(waiting)["id"]
        base, headers = f"{GATEWAY}/api/v1/console/conversations/{conversation}", {"X-CSRF-Token": self.csrf}
        started = time.monotonic()
        try:
            claimed = self.http.post(f"{base}/claim", headers=headers, timeout=30)
            if claimed.status_code == 409:  # the other operator was quicker
                return
            claimed.raise_for_status()
            self.http.post(f"{base}/reply", json={"text": "您好，人工客服为您服务，您的问题我们已经记录。"},
                           headers=headers, timeout=30).raise_for_status()
            time.sleep(1)
            self.http.post(f"{base}/handback", headers=headers, timeout=30).raise_for_status()
            fire("operator claim, reply, hand back", started)
        except requests.RequestException as exc:
            fire("operator claim, reply, hand back", started, str(exc))


class Caller(User):
    """Speaks one recorded utterance on the audio socket and waits for the bot's answer."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        with wave.open(CALLER_WAV, "rb") as recording:
            self.rate = recording.getframerate()
            self.pcm = recording.readframes(recording.getnframes())

    @task
    def call(self) -> None:
        if not CALLER_WAV or not CHANNEL_TOKEN:
            return
        started = time.monotonic()
        try:
            ws = websocket.create_connection(f"{WS}/ws/audio", timeout=30,
                                             header=[f"Authorization: Bearer {CHANNEL_TOKEN}"])
        except (OSError, websocket.WebSocketException) as exc:
            record(kind="call", outcome="refused", error=str(exc)[:100])
            fire("call: connect", started, str(exc))
            return
        try:
            ws.send(json.dumps({"type": "start", "sender": f"load-call-{secrets.token_hex(6)}",
                                "sample_rate": self.rate}))
            step = self.rate // 10 * 2  # 100 ms frames, sent in real time as a phone line would
            for offset in range(0, len(self.pcm), step):
                ws.send_binary(self.pcm[offset:offset + step])
                time.sleep(0.1)
            silence = b"\x00\x00" * (self.rate // 10)
            spoke = time.monotonic()
            outcome, heard = "silent", False
            ws.settimeout(0.1)
            while time.monotonic() - spoke < ANSWER_TIMEOUT:
                ws.send_binary(silence)  # the line stays open: the recognizer hears the pause
                try:
                    frame = json.loads(ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                if frame.get("type") == "error":
                    outcome = "notice"
                    break
                heard = heard or frame.get("type") == "final"
                if heard and frame.get("type") == "bot":  # the answer to what was said (not a greeting)
                    outcome = "answered"
                    break
            record(kind="call", outcome=outcome, ms=(time.monotonic() - spoke) * 1000)
            events.request.fire(request_type="WS", name="call: end of speech to answer",
                                response_time=(time.monotonic() - spoke) * 1000, response_length=0,
                                exception=None if outcome != "silent" else Exception("no answer"), context={})
        except (OSError, websocket.WebSocketException) as exc:
            record(kind="call", outcome="disconnected", error=str(exc)[:100])
            fire("call: end of speech to answer", started, "disconnected")
        finally:
            ws.close()


class ConsoleWatcher(User):
    """An operator's console left open on the live socket; reconnects the way console.js does."""

    fixed_count = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        self.http = requests.Session()
        console_login(self.http, OPERATORS[0])
        self.dropped_at: Optional[float] = None

    @task
    def watch(self) -> None:
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        try:
            ws = websocket.create_connection(f"{WS}/ws/console", timeout=10, origin=GATEWAY,
                                             header=[f"Cookie: {cookie}"])
            frame = json.loads(ws.recv())
        except (OSError, websocket.WebSocketException, ValueError):
            self.dropped_at = self.dropped_at or time.monotonic()
            time.sleep(1)
            return
        if frame.get("type") == "queue" and self.dropped_at is not None:
            record(kind="console_reconnect", s=time.monotonic() - self.dropped_at)
            self.dropped_at = None
        ws.settimeout(30)
        try:
            while True:
                ws.recv()
        except websocket.WebSocketTimeoutException:
            ws.close()  # quiet for a while: reopen (as a check that the console still gets in)
        except (OSError, websocket.WebSocketException):
            self.dropped_at = time.monotonic()
            record(kind="console_dropped")
