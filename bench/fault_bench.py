"""`python -m bench.fault_bench`: the scaled hotline under load while its parts fail one after another.

During a locust run (bench/load/locustfile.py) one replica of each kind of process is killed with
SIGKILL in turn (gateway, Rasa, action server, issue API, then HAProxy itself), then PostgreSQL and
Redis are restarted. Passing means:

- every message a user sent got an answer or a clear notice (none `silent`),
- every ticket a user was told about exists exactly once, and every report kept for later landed once,
- conversations went on after each fault (filings completed after the last one),
- the operators' console reconnected by itself after every drop.

Prints the figures per fault and writes bench/results/fault_bench.md.

    python -m bench.fault_bench --users 30 --interval 25
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Optional

from bench.hotline_process import Hotline
from bench.load_bench import read_results, run_locust, verify_reports
from contract.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"


def restart_postgresql() -> None:
    """Restart the PostgreSQL cluster that listens on 5432 (Debian's pg_ctlcluster)."""
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        version, cluster, port = line.split()[:3]
        if port == "5432":
            subprocess.run(["pg_ctlcluster", version, cluster, "restart"], check=True)
            return
    raise RuntimeError("no PostgreSQL cluster on port 5432")


def restart_redis() -> None:
    subprocess.run(["service", "redis-server", "restart"], check=True, capture_output=True)


def faults(hotline: Hotline, kinds: list[str]) -> list[tuple[str, Callable[[], Any]]]:
    every = {
        "gateway": lambda: hotline.kill("gateway_1"),
        "rasa": lambda: hotline.kill("rasa_1"),
        "actions": lambda: hotline.kill("actions_1"),
        "issue_api": lambda: hotline.kill("issue_api_1"),
        "haproxy": lambda: hotline.kill("haproxy"),
        "postgresql": restart_postgresql,
        "redis": restart_redis,
    }
    return [(f"kill -9 {kind}" if kind not in ("postgresql", "redis") else f"restart {kind}", every[kind])
            for kind in kinds]


def inject(schedule: list[tuple[str, Callable[[], Any]]], first_s: float, interval_s: float,
           done: list[tuple[str, float]]) -> None:
    time.sleep(first_s)
    for name, action in schedule:
        print(f"  fault: {name}", flush=True)
        done.append((name, time.time()))
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - a fault that could not be made is reported, not fatal
            print(f"  could not {name}: {exc}", flush=True)
        time.sleep(interval_s)


def judge(rows: list[dict[str, Any]], reports: dict[str, int], injected: list[tuple[str, float]],
          window_s: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per fault: what happened to the messages sent in the window after it; and the whole run."""
    messages = [r for r in rows if r["kind"] == "message"]
    per_fault = []
    for name, at in injected:
        inside = Counter(r["outcome"] for r in messages if at <= r["at"] - r["ms"] / 1000 < at + window_s)
        per_fault.append({"fault": name, **inside})
    last = injected[-1][1] if injected else 0.0
    tickets_after = sum(1 for r in rows if r["kind"] in ("ticket", "queued") and r["at"] > last + window_s / 2)
    drops = sum(1 for r in rows if r["kind"] == "console_dropped")
    reconnects = [r["s"] for r in rows if r["kind"] == "console_reconnect"]
    total = Counter(r["outcome"] for r in messages)
    overall = {
        "messages": len(messages), **{f"msg_{k}": v for k, v in total.items()}, **reports,
        "filings_after_last_fault": tickets_after, "console_drops": drops, "console_reconnects": len(reconnects),
        "console_reconnect_max_s": max(reconnects, default=0.0),
    }
    overall["passed"] = (total.get("silent", 0) == 0 and reports.get("told_missing", 0) == 0
                         and reports.get("duplicates", 0) == 0 and reports.get("queued_lost", 0) == 0
                         and tickets_after > 0 and len(reconnects) >= drops)
    return per_fault, overall


def report(per_fault: list[dict[str, Any]], overall: dict[str, Any], users: int) -> str:
    lines = ["| fault | messages sent in the next window | answered | notice | reconnected | silent |",
             "|---|---|---|---|---|---|"]
    for row in per_fault:
        sent = sum(v for k, v in row.items() if k != "fault")
        lines.append(f"| {row['fault']} | {sent} | {row.get('answered', 0)} | {row.get('notice', 0)} | "
                     f"{row.get('disconnected', 0)} | {row.get('silent', 0)} |")
    o = overall
    lines += [
        "",
        f"Whole run ({users} users): {o['messages']} messages, {o.get('msg_answered', 0)} answered, "
        f"{o.get('msg_notice', 0)} with a notice, {o.get('msg_disconnected', 0)} resent after a reconnect, "
        f"**{o.get('msg_silent', 0)} silent**; tickets told {o.get('told', 0)}, found exactly once "
        f"{o.get('told_found_once', 0)}, missing **{o.get('told_missing', 0)}**; reports kept while the ticket "
        f"service was away {o.get('queued', 0)}, landed once {o.get('queued_landed_once', 0)}, lost "
        f"**{o.get('queued_lost', 0)}**; duplicates **{o.get('duplicates', 0)}**; filings completed after the last "
        f"fault {o['filings_after_last_fault']}; console drops {o['console_drops']}, reconnected by itself "
        f"{o['console_reconnects']} (slowest {o['console_reconnect_max_s']:.1f} s). "
        f"**{'PASS' if o['passed'] else 'FAIL'}**.",
    ]
    return "\n".join(lines)


def run_faults(hotline: Hotline, workdir: Path, users: int, kinds: list[str], first_s: float,
               interval_s: float, tail_s: float,
               stop_timeout_s: int = 90) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Load and faults on a started scaled hotline; the verdicts (also used by the short test)."""
    schedule = faults(hotline, kinds)
    duration = int(first_s + interval_s * len(schedule) + tail_s)
    injected: list[tuple[str, float]] = []
    injector = threading.Thread(target=inject, args=(schedule, first_s, interval_s, injected), daemon=True)
    injector.start()
    results, _ = run_locust(hotline, users, duration, workdir, "faults", extra_env={"LOAD_ANSWER_TIMEOUT": "90"},
                            stop_timeout_s=stop_timeout_s)
    injector.join()
    rows = read_results(results)
    reports = verify_reports(hotline, rows, wait_s=180)
    return judge(rows, reports, injected, window_s=interval_s)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--interval", type=float, default=25.0, help="seconds between faults")
    parser.add_argument("--faults", default="gateway,rasa,actions,issue_api,haproxy,postgresql,redis")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fault-bench-", ignore_cleanup_errors=True) as tmp:
        hotline = Hotline(scaled=True, workdir=Path(tmp) / "scaled")
        print("starting the scaled hotline…", flush=True)
        try:
            hotline.start()
            per_fault, overall = run_faults(hotline, Path(tmp), args.users, args.faults.split(","),
                                            first_s=30, interval_s=args.interval, tail_s=60)
        finally:
            hotline.stop()
    text = ("### Faults under load (`make run-scaled`)\n\n"
            f"{args.users} simulated users (as in the load bench); one fault every {args.interval:g} s. A message "
            "'resent after a reconnect' is one whose socket dropped: the widget said it was reconnecting, the "
            "user read the answer in the history or sent the message again.\n\n"
            + report(per_fault, overall, args.users) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fault_bench.md").write_text(text, encoding="utf-8")
    print(text)
    return 0 if overall["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
