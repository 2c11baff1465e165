"""`python -m bench.load_bench`: the whole hotline under load, as one process of each kind (`make run`)
and as the scaled topology (`make run-scaled`), in the same run.

Locust (bench/load/locustfile.py, from .venv-load) plays web users filing by chat, users asking for
a person, two operators serving the queue and callers on the audio socket. Afterwards every report is
checked against the issue API: each ticket a user was told exists, with their phone, exactly once,
and each report kept for later (ticket service away) became exactly one ticket. Prints a table and
writes bench/results/load_bench.md.

    python -m bench.load_bench --users 60 --duration 180 --topology single,scaled
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

from bench.hotline_process import OPERATORS, Hotline, korean_model
from contract.issue_client import IssueClient
from contract.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"
LOCUST = REPO_ROOT / ".venv-load" / "bin" / "locust"
LOCUSTFILE = REPO_ROOT / "bench" / "load" / "locustfile.py"


def caller_wav(workdir: Path) -> Optional[Path]:
    """A caller's utterance the (Korean) test model understands, 16 kHz mono."""
    if korean_model() is None:
        return None
    raw, wav = workdir / "caller-raw.wav", workdir / "caller.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(raw), "안녕하세요 도움이 필요합니다"], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    return wav


def run_locust(hotline: Hotline, users: int, duration: int, workdir: Path, label: str,
               extra_env: Optional[dict[str, str]] = None, stop_timeout_s: int = 90) -> tuple[Path, Path]:
    """Run the load for `duration` seconds; the JSON-lines results and locust's stats CSV.
    `stop_timeout_s`: how long users may take to finish the conversation they are in at the end."""
    if not LOCUST.exists():
        raise SystemExit("locust is not installed: run `make setup` (it makes .venv-load)")
    results = workdir / f"{label}-results.jsonl"
    results.unlink(missing_ok=True)
    wav = caller_wav(workdir)
    env = {
        **hotline.env,
        "LOAD_GATEWAY_URL": hotline.url("gateway"),
        "LOAD_RESULTS": str(results),
        "LOAD_OPERATORS": ",".join(OPERATORS),
        "LOAD_CHANNEL_TOKEN": hotline.env["GATEWAY_CHANNEL_TOKEN"],
        "LOAD_CALLER_WAV": str(wav or ""),
        "LOAD_RUN": label,
        **(extra_env or {}),
    }
    csv_prefix = workdir / label
    spawn_rate = max(1, users // 20)
    print(f"[{label}] {users} users for {duration}s (ramp {spawn_rate}/s)…", flush=True)
    subprocess.run([str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(spawn_rate),
                    "-t", f"{duration}s", "--stop-timeout", str(stop_timeout_s), "--csv", str(csv_prefix),
                    "--only-summary",
                    "--host", hotline.url("gateway"), "--loglevel", "WARNING"],
                   cwd=REPO_ROOT, env=env, check=False)
    return results, Path(f"{csv_prefix}_stats.csv")


def read_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify_reports(hotline: Hotline, rows: list[dict[str, Any]], wait_s: float = 120) -> dict[str, int]:
    """Each ticket told exists once with the filer's phone; each kept report lands exactly once."""
    api = IssueClient(hotline.url("issue_api"), hotline.admin_token, timeout=30)
    told = [r for r in rows if r["kind"] == "ticket"]
    queued = [r for r in rows if r["kind"] == "queued"]
    out = Counter(told=len(told), queued=len(queued))
    for row in told:
        found = api.tickets(phone=row["phone"])
        ids = [t["id"] for t in found]
        out["told_found_once"] += ids == [row["ticket_id"]]
        out["told_missing"] += row["ticket_id"] not in ids
        out["duplicates"] += max(0, len(ids) - 1)
    deadline = time.monotonic() + wait_s
    pending = list(queued)
    while pending and time.monotonic() < deadline:  # the outbox delivers once the service is back
        pending = [r for r in pending if not api.tickets(phone=r["phone"])]
        if pending:
            time.sleep(3)
    for row in queued:
        count = len(api.tickets(phone=row["phone"]))
        out["queued_landed_once"] += count == 1
        out["duplicates"] += max(0, count - 1)
    out["queued_lost"] = len(pending)
    return dict(out)


def stats_rows(stats_csv: Path) -> dict[str, dict[str, float]]:
    if not stats_csv.exists():
        return {}
    with stats_csv.open(encoding="utf-8") as handle:
        return {row["Name"]: {"count": float(row["Request Count"]), "failures": float(row["Failure Count"]),
                              "p50": float(row["50%"] or 0), "p95": float(row["95%"] or 0),
                              "rps": float(row["Requests/s"] or 0)}
                for row in csv.DictReader(handle)}


def summarize(label: str, rows: list[dict[str, Any]], stats: dict[str, dict[str, float]],
              reports: dict[str, int], duration: int) -> dict[str, Any]:
    messages = [r for r in rows if r["kind"] == "message"]
    outcomes = Counter(r["outcome"] for r in messages)
    calls = Counter(r["outcome"] for r in rows if r["kind"] == "call")
    seekers = [r for r in rows if r["kind"] == "operator_answer"]
    msg = stats.get("filer message", {})
    call = stats.get("call: end of speech to answer", {})
    operator = stats.get("operator answer (wait)", {})
    return {
        "label": label, "messages": len(messages), **{f"msg_{k}": v for k, v in outcomes.items()},
        "msg_p50": msg.get("p50", 0), "msg_p95": msg.get("p95", 0),
        "msg_per_s": len(messages) / duration, "filings": reports.get("told", 0) + reports.get("queued", 0),
        "filings_per_min": (reports.get("told", 0) + reports.get("queued", 0)) * 60 / duration,
        "calls": sum(calls.values()), "calls_answered": calls.get("answered", 0), "call_p95": call.get("p95", 0),
        "operator_p95": operator.get("p95", 0), "seekers": len(seekers),
        "seekers_served": sum(1 for r in seekers if r.get("ms") is not None), **reports,
    }


def table(summaries: list[dict[str, Any]], users: int, duration: int) -> str:
    head = ("| topology | chat messages | answered | notice | reconnected | silent | chat reply p50 / p95 (ms) | "
            "messages/s | filings (per min) | tickets told: found once | kept reports landed | duplicates | "
            "calls answered | call answer p95 (ms) | asked for a person: an operator answered | operator answer p95 (ms) |")
    lines = [head, "|" + "---|" * 16]
    for s in summaries:
        lines.append(
            f"| {s['label']} | {s['messages']} | {s.get('msg_answered', 0)} | {s.get('msg_notice', 0)} | "
            f"{s.get('msg_disconnected', 0)} | {s.get('msg_silent', 0)} | {s['msg_p50']:.0f} / {s['msg_p95']:.0f} | "
            f"{s['msg_per_s']:.1f} | {s['filings']} ({s['filings_per_min']:.1f}) | "
            f"{s.get('told_found_once', 0)} of {s.get('told', 0)} | {s.get('queued_landed_once', 0)} of "
            f"{s.get('queued', 0)} | {s.get('duplicates', 0)} | {s['calls_answered']} of {s['calls']} | "
            f"{s['call_p95']:.0f} | {s['seekers_served']} of {s['seekers']} | {s['operator_p95']:.0f} |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--duration", type=int, default=180, help="seconds of load per topology")
    parser.add_argument("--topology", default="single,scaled")
    args = parser.parse_args(argv)
    summaries = []
    with tempfile.TemporaryDirectory(prefix="load-bench-", ignore_cleanup_errors=True) as tmp:
        for label in args.topology.split(","):
            hotline = Hotline(scaled=label == "scaled", workdir=Path(tmp) / label)
            print(f"[{label}] starting the hotline…", flush=True)
            try:
                hotline.start()
                results, stats_csv = run_locust(hotline, args.users, args.duration, Path(tmp), label)
                rows = read_results(results)
                reports = verify_reports(hotline, rows)
                summaries.append(summarize(label, rows, stats_rows(stats_csv), reports, args.duration))
            finally:
                hotline.stop()
            print(table(summaries[-1:], args.users, args.duration), flush=True)
    text = (f"### Load: single processes against the scaled topology\n\n"
            f"{args.users} simulated users for {args.duration} s per topology on this 2-core machine "
            "(locust, bench/load/locustfile.py): web users filing by chat (8 of 11), users asking for a person "
            "(1), callers on the audio socket (1), two operators serving the queue. `single` is `make run`, "
            "`scaled` is `make run-scaled` (HAProxy, two of every process, PostgreSQL and Redis). Every report "
            "checked against the issue API afterwards.\n\n" + table(summaries, args.users, args.duration) + "\n\n"
            "On one 2-core machine the scaled topology runs twice the processes plus PostgreSQL on the same two "
            "cores, so it is not faster here: what it buys is that a dead process costs nothing (see the fault "
            "run), and its capacity grows with the machines its replicas are spread over.\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_bench.md").write_text(text, encoding="utf-8")
    print(text)
    lost = sum(s.get("msg_silent", 0) + s.get("told_missing", 0) + s.get("queued_lost", 0) + s.get("duplicates", 0)
               for s in summaries)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
