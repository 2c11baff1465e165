"""NLU benchmark: intent accuracy and macro-F1 from 3-fold cross-validation of the real pipeline
(config.yml, data/), and parse latency of the trained model (models/hotline.tar.gz), in process.

    .venv/bin/python -m bench.nlu_bench [--folds 3] [--parses 200]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "nlu_bench.md"
SAMPLES = [
    "喂 那个 我们园区停电一上午了", "帮我查一下工单2611270003", "能不能帮我催一下", "我要撤销工单",
    "政务大厅几点上班", "我们公司想找个会计事务所", "转人工", "西安华清智能科技有限公司", "对",
    "我们有一批设备想找买家", "非常满意", "你是机器人吗", "今天天气怎么样", "我想补充一点情况",
]


def cross_validate(folds: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--cross-validation",
             "--folds", str(folds), "--config", "config.yml", "--nlu", "data", "--out", out],
            cwd=ROOT, check=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        report = json.loads((Path(out) / "intent_report.json").read_text(encoding="utf-8"))
        return {
            "accuracy": report["accuracy"],
            "macro_f1": report["macro avg"]["f1-score"],
            "weighted_f1": report["weighted avg"]["f1-score"],
            "seconds": time.monotonic() - started,
            "worst": sorted(
                ((name, v["f1-score"]) for name, v in report.items() if isinstance(v, dict) and "support" in v
                 and name not in ("macro avg", "weighted avg", "micro avg")),
                key=lambda item: item[1],
            )[:3],
        }


def parse_latency(count: int) -> dict:
    from rasa.core.agent import Agent

    agent = Agent.load(str(ROOT / "models" / "hotline.tar.gz"))

    async def run() -> list[float]:
        for text in SAMPLES:  # warm-up
            await agent.parse_message(text)
        timings = []
        for i in range(count):
            started = time.perf_counter()
            await agent.parse_message(SAMPLES[i % len(SAMPLES)])
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    timings = sorted(asyncio.run(run()))
    return {"p50": statistics.median(timings), "p95": timings[int(len(timings) * 0.95) - 1],
            "count": count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--parses", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    cv = cross_validate(args.folds)
    latency = parse_latency(args.parses)
    worst = ", ".join(f"{name} {f1:.2f}" for name, f1 in cv["worst"])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join([
        f"### NLU ({when}; {machine})",
        "",
        "| figure | value |",
        "|---|---|",
        f"| intent accuracy, {args.folds}-fold cross-validation | {cv['accuracy']:.3f} |",
        f"| intent macro-F1, {args.folds}-fold cross-validation | {cv['macro_f1']:.3f} |",
        f"| intent weighted-F1 | {cv['weighted_f1']:.3f} |",
        f"| weakest intents (F1) | {worst} |",
        f"| parse latency p50 / p95 ({latency['count']} parses, in process) | "
        f"{latency['p50']:.1f} ms / {latency['p95']:.1f} ms |",
        f"| cross-validation wall time | {cv['seconds']:.0f} s |",
        "",
    ])
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
