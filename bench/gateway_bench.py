"""How much the gateway adds to each message, and how many widgets and conversations it holds.

Starts a fake Rasa (tests/bot/gateway/fake_rasa.py, answers at once) and `python -m bot gateway` on
free loopback ports, then measures:
  1. added latency per message: the same message sent straight to the fake Rasa and through the
     gateway's channel API (HTTP) and widget WebSocket; p50/p95 of each and the difference;
  2. capacity: 500 open widget WebSockets of which 50 chat at once; reply latency under that load,
     the gateway's memory and whether every socket stayed open.
Writes bench/results/gateway_bench.md. Bounded to well under three minutes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import websockets

from tests.support.servers import REPO_ROOT, ServerProcess, free_port, python_cmd

RESULTS = REPO_ROOT / "bench" / "results" / "gateway_bench.md"
CHANNEL_TOKEN = "bench-channel-token"  # the channel API is the voice adapters': they send GATEWAY_CHANNEL_TOKEN


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> tuple[float, float]:
    return pct(values, 50) * 1000, pct(values, 95) * 1000


async def latency_series(rasa_url: str, gw_url: str, n: int) -> dict[str, list[float]]:
    """Interleave the three paths message by message, so that they share whatever load the machine has."""
    direct_url = f"{rasa_url}/webhooks/rest/webhook"
    channel_url = f"{gw_url}/api/v1/channel/messages"
    ws_url = f"{gw_url.replace('http://', 'ws://')}/ws/chat?sender=bench-ws-{uuid.uuid4().hex[:12]}"
    series: dict[str, list[float]] = {"direct": [], "http": [], "ws": []}
    channel_headers = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}
    async with aiohttp.ClientSession() as http, websockets.connect(ws_url) as ws:
        await ws.recv()

        async def post(url: str, body: dict, headers: dict | None = None) -> float:
            start = time.perf_counter()
            async with http.post(url, json=body, headers=headers) as response:
                response.raise_for_status()
                await response.read()
            return time.perf_counter() - start

        async def chat(text: str) -> float:
            start = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": text}))
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "message" and frame["message"]["role"] == "bot":
                    return time.perf_counter() - start

        for i in range(n + 20):  # the first 20 warm up connections, caches and SQLite pages
            text = f"你好{i}"
            timings = (
                await post(direct_url, {"sender": f"direct-{i % 50}", "message": text}),
                await post(channel_url, {"sender": f"bench-http-{i % 50}", "message": text}, channel_headers),
                await chat(text),
            )
            if i >= 20:
                for key, value in zip(("direct", "http", "ws"), timings):
                    series[key].append(value)
    return series


async def capacity(ws_base: str, open_count: int, active: int, turns: int, think_s: float) -> dict:
    sockets = []
    start = time.perf_counter()
    for i in range(open_count):
        ws = await websockets.connect(f"{ws_base}/ws/chat?sender=bench-idle-{i:04d}-{uuid.uuid4().hex[:8]}",
                                      open_timeout=20, ping_interval=None)
        await ws.recv()
        sockets.append(ws)
    open_s = time.perf_counter() - start

    async def converse(ws) -> list[float]:
        times = []
        for turn in range(turns):
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": f"第{turn}个问题"}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame["type"] == "message" and frame["message"]["role"] == "bot":
                    break
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(think_s)  # people take several seconds per message; this is harsher
        return times

    t0 = time.perf_counter()
    results = await asyncio.gather(*(converse(ws) for ws in sockets[:active]))
    busy_s = time.perf_counter() - t0
    latencies = [t for r in results for t in r]
    still_open = sum(1 for ws in sockets if ws.open)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return {"opened": len(sockets), "open_s": open_s, "still_open": still_open, "latencies": latencies,
            "messages": len(latencies), "busy_s": busy_s}


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used: unlike wall-clock time, unaffected by other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300, help="messages per latency series")
    parser.add_argument("--open", type=int, default=500, help="widget WebSockets to hold open")
    parser.add_argument("--active", type=int, default=50, help="of those, how many chat at once")
    parser.add_argument("--turns", type=int, default=10, help="messages per active conversation")
    parser.add_argument("--think", type=float, default=1.0, help="seconds an active user waits between messages")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gateway_bench_"))
    rasa_port, gw_port = free_port(), free_port()
    rasa_url, gw_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{gw_port}"
    rasa = ServerProcess(python_cmd("-m", "tests.bot.gateway.fake_rasa", "--port", str(rasa_port)),
                         health_url=f"{rasa_url}/status", log_path=tmp / "fake_rasa.log").start()
    gateway = ServerProcess(
        python_cmd("-m", "bot", "gateway"), health_url=f"{gw_url}/api/v1/health", log_path=tmp / "gateway.log",
        env={"GATEWAY_PORT": str(gw_port), "GATEWAY_DB": str(tmp / "gateway.db"), "RASA_URL": rasa_url,
             "GATEWAY_MESSAGES_PER_MINUTE": "100000", "GATEWAY_LOG_LEVEL": "warning", "GATEWAY_SECRET": "bench",
             "GATEWAY_CHANNEL_TOKEN": CHANNEL_TOKEN},
    ).start()
    try:
        idle_rss = rss_mb(gateway.proc.pid)
        cpu_before = cpu_seconds(gateway.proc.pid)
        series = asyncio.run(latency_series(rasa_url, gw_url, args.messages))
        # Each loop round sends two messages through the gateway (channel API and WebSocket).
        cpu_per_message_ms = (cpu_seconds(gateway.proc.pid) - cpu_before) / (2 * (args.messages + 20)) * 1000
        direct, via_http, via_ws = series["direct"], series["http"], series["ws"]
        ws_base = gw_url.replace("http://", "ws://")
        cap = asyncio.run(capacity(ws_base, args.open, args.active, args.turns, args.think))
        loaded_rss = rss_mb(gateway.proc.pid)
    finally:
        gateway.stop()
        rasa.stop()

    d50, d95 = ms(direct)
    h50, h95 = ms(via_http)
    w50, w95 = ms(via_ws)
    c50, c95 = ms(cap["latencies"])
    # Added latency = the same message's time through the gateway minus its time straight to Rasa.
    a_http = ms([g - d for g, d in zip(via_http, direct)])
    a_ws = ms([g - d for g, d in zip(via_ws, direct)])
    rows = [
        ("Rasa (fake) directly, HTTP", d50, d95, "–", "–"),
        ("through the gateway, channel API (HTTP)", h50, h95, f"{a_http[0]:.2f}", f"{a_http[1]:.2f}"),
        ("through the gateway, widget WebSocket", w50, w95, f"{a_ws[0]:.2f}", f"{a_ws[1]:.2f}"),
    ]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
    lines = [
        "### Gateway",
        "",
        f"{now}, {machine}, load average {os.getloadavg()[0]:.1f} at the start; loopback, fake Rasa answering at "
        f"once, {args.messages} messages per path, the three paths interleaved; added = gateway minus direct, "
        "per message.",
        "",
        "| path | p50 ms | p95 ms | added p50 ms | added p95 ms |",
        "|---|---:|---:|---:|---:|",
        *[f"| {name} | {p50:.2f} | {p95:.2f} | {a50} | {a95} |" for name, p50, p95, a50, a95 in rows],
        "",
        f"Gateway CPU time per message (user + system, independent of other load): {cpu_per_message_ms:.2f} ms.",
        "",
        "| capacity | figure |",
        "|---|---:|",
        f"| widget WebSockets opened | {cap['opened']} (in {cap['open_s']:.1f} s) |",
        f"| still open after the load | {cap['still_open']} |",
        f"| conversations chatting at once | {args.active}, {args.turns} messages each, {args.think:g} s apart |",
        f"| reply latency under that load p50 / p95 | {c50:.1f} / {c95:.1f} ms |",
        f"| gateway memory idle / with {cap['opened']} sockets | {idle_rss:.0f} / {loaded_rss:.0f} MB |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return 0 if cap["still_open"] == cap["opened"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
