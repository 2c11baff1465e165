"""Full turn latency through the REST channel: issue API + action server + Rasa server started on
free loopback ports; conversations run at 1 and at 20 concurrent callers. Every conversation files a
ticket, so the filing turn (form completion -> action server -> issue API POST) is measured too.
Also NLU parse latency alone (POST /model/parse) on the same server.

Two ways to load 20 conversations, because they answer different questions:
- back to back (each conversation sends its next turn the moment the reply arrives): the server's
  capacity in turns per second; latency is then mostly queueing (about 20 / capacity).
- paced (each conversation waits `--think` seconds between turns, as a caller speaking or a user
  typing does, with the start times spread out): the latency 20 real callers at once would see.

    .venv/bin/python -m bench.turn_bench [--conversations 40] [--think 4]
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.ops.topology import RASA_WORKERS, rasa_workers_environment  # noqa: E402
from tests.support.stack import RASA_API_TOKEN, start_action_server, start_issue_api, start_rasa_server  # noqa: E402

RESULT = ROOT / "bench" / "results" / "turn_bench.md"
SCRIPT = ["你好", "我们园区门口的路灯坏了好几天了", "西安华清智能科技有限公司", "我叫张伟", "对", "对"]
FILING_TURN = len(SCRIPT) - 1
PARSE_SAMPLES = [
    "喂 那个 我们园区停电一上午了", "帮我查一下工单2611270003", "能不能帮我催一下", "我要撤销工单",
    "政务大厅几点上班", "我们公司想找个会计事务所", "转人工", "西安华清智能科技有限公司", "对",
    "我们有一批设备想找买家", "非常满意", "你是机器人吗", "今天天气怎么样", "我想补充一点情况",
]


def parse_latency(rasa_url: str, count: int = 200) -> dict[str, float]:
    """NLU alone: POST /model/parse, one request at a time."""
    session = requests.Session()
    timings = []
    for i in range(count):
        started = time.perf_counter()
        session.post(f"{rasa_url}/model/parse", json={"text": PARSE_SAMPLES[i % len(PARSE_SAMPLES)]},
                     params={"token": RASA_API_TOKEN}, timeout=30).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[int(len(timings) * 0.95)], "count": count}


def conversation(
    rasa_url: str, session: requests.Session, index: int, think: float = 0.0
) -> list[tuple[bool, float]]:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    phone = f"1390000{index:04d}"
    timings = []
    if think:
        time.sleep(random.uniform(0, think))  # callers do not all start on the same millisecond
    for turn, text in enumerate(SCRIPT):
        if think and turn:
            time.sleep(think)
        started = time.perf_counter()
        response = session.post(f"{rasa_url}/webhooks/rest/webhook", timeout=60,
                                json={"sender": sender, "message": text, "metadata": {"phone": phone}})
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        if turn == FILING_TURN and "工单编号" not in " ".join(m.get("text", "") for m in response.json()):
            raise RuntimeError(f"conversation {sender} did not file a ticket: {response.json()}")
        timings.append((turn == FILING_TURN, elapsed))
    return timings


def run(rasa_url: str, conversations: int, concurrency: int, think: float = 0.0) -> dict[str, float]:
    sessions = [requests.Session() for _ in range(concurrency)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda i: conversation(rasa_url, sessions[i % concurrency], i, think),
                                range(conversations)))
        wall = time.monotonic() - started
    every = sorted(t for conv in results for _, t in conv)
    filing = sorted(t for conv in results for is_filing, t in conv if is_filing)
    pct = lambda xs, q: xs[min(len(xs) - 1, int(len(xs) * q))]  # noqa: E731
    return {"p50": statistics.median(every), "p95": pct(every, 0.95),
            "filing_p50": statistics.median(filing), "filing_p95": pct(filing, 0.95),
            "turns": len(every), "turns_per_s": len(every) / wall}


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--think", type=float, default=4.0,
                        help="seconds between a paced conversation's turns (speaking or typing)")
    parser.add_argument("--workers", type=int, default=int(RASA_WORKERS),
                        help="Sanic workers of the Rasa server (default: what `make run` starts)")
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        api, api_url, tokens = start_issue_api(root / "api")
        actions, actions_url = start_action_server(api_url, tokens["bot"], root / "actions")
        rasa, rasa_url = start_rasa_server(actions_url, root / "rasa", environment=rasa_workers_environment(
            {"RASA_WORKERS": str(args.workers)}))
        try:
            run(rasa_url, 4 * args.workers, 2 * args.workers)  # warm-up, every worker
            parse = parse_latency(rasa_url)
            single = run(rasa_url, max(5, args.conversations // 4), 1)
            twenty = run(rasa_url, args.conversations, 20)
            paced = run(rasa_url, 20, 20, think=args.think)
            paced60 = run(rasa_url, 60, 60, think=args.think)
        finally:
            rasa.stop()
            actions.stop()
            api.stop()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    rows = [f"### Conversation turns through REST ({when}; {machine}; load average before {load[0]:.1f}; "
            f"Rasa server with {args.workers} Sanic worker{'s' if args.workers > 1 else ''} as `make run` starts it)",
            "",
            "| concurrent conversations | turns | all turns p50 / p95 | filing turn p50 / p95 | turns/s | goal |",
            "|---|---|---|---|---|---|"]
    goals = {
        "1": f"p50 ≤ 50 ms: {_met(single['p50'] <= 50)}; filing p95 ≤ 100 ms: {_met(single['filing_p95'] <= 100)}",
        "20, back to back (capacity)": f"≥ 25 turns/s: {_met(twenty['turns_per_s'] >= 25)}",
        "20 paced": f"p95 < 150 ms: {_met(paced['p95'] < 150)}",
        "60 paced": f"p95 < 250 ms: {_met(paced60['p95'] < 250)}",
    }
    for label, key, r in (("1", "1", single), ("20, back to back (capacity)", "20, back to back (capacity)", twenty),
                          (f"20, paced ({args.think:g} s between turns)", "20 paced", paced),
                          (f"60, paced ({args.think:g} s between turns)", "60 paced", paced60)):
        rows.append(f"| {label} | {r['turns']} | {r['p50']:.0f} ms / {r['p95']:.0f} ms | "
                    f"{r['filing_p50']:.0f} ms / {r['filing_p95']:.0f} ms | {r['turns_per_s']:.1f} | {goals[key]} |")
    rows += ["", f"NLU parse latency (POST /model/parse, {parse['count']} sequential requests): "
                 f"p50 {parse['p50']:.0f} ms, p95 {parse['p95']:.0f} ms."]
    table = "\n".join(rows + ["", "Filing turn: form completion, action server, issue API POST with "
                                  "Idempotency-Key, SQLite on both sides.", ""])
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
