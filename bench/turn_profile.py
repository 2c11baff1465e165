"""`make profile`: where a conversation turn's time goes, part by part.

The Rasa agent runs in this process, loaded from models/hotline.tar.gz with the hotline's endpoints
(SQLite tracker store, the action server over HTTP with selective domain, as endpoints.yml says);
the issue API and the action server run as their own processes, as under `make run`. Timers wrap
Rasa's parts (NLU, the dialogue prediction and each policy inside it, the tracker store, each custom
action's round trip and the validation of its answer, response rendering); the other processes'
CPU is read from /proc. The same texts are then parsed alone (NLU only) for the baseline the speed
goal is stated against: a whole turn's CPU, all processes, over the CPU of parsing its text.

    .venv/bin/python -m bench.turn_profile [--conversations 16] [--without-speedups]
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.support.stack import (  # noqa: E402
    ACTION_SERVER_TOKEN, MODEL_PATH, start_action_server, start_issue_api,
)

RESULT = ROOT / "bench" / "results" / "turn_profile.md"
# The turns of the notes' measurement (turn-profile.md): greeting, report, company, name, confirm the
# caller id, confirm the read-back, goodbye, a lookup, thanks.
SCRIPT = ["你好", "我们园区门口的路灯坏了好几天了 晚上特别黑", "西安华清智能科技有限公司", "我叫张伟", "对",
          "对 提交吧", "好的 再见", "帮我查一下我的工单", "谢谢"]


@dataclass
class Part:
    calls: int = 0
    wall: float = 0.0
    cpu: float = 0.0


@dataclass
class Timers:
    parts: dict[str, Part] = field(default_factory=lambda: defaultdict(Part))
    paused: bool = False  # while the baseline is parsed: those parses are not part of a turn

    def add(self, name: str, wall: float, cpu: float) -> None:
        if self.paused:
            return
        part = self.parts[name]
        part.calls += 1
        part.wall += wall
        part.cpu += cpu


TIMERS = Timers()


def _wrap(owner: Any, attribute: str, name: Callable[..., str] | str) -> None:
    """Time every call of owner.attribute (sync or async) under `name` (or name(*args))."""
    original = getattr(owner, attribute)

    def label(args: tuple, kwargs: dict) -> str:
        return name(*args, **kwargs) if callable(name) else name

    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return await original(*args, **kwargs)
            finally:
                TIMERS.add(label(args, kwargs), time.perf_counter() - wall, time.thread_time() - cpu)
        setattr(owner, attribute, timed_async)
    else:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                TIMERS.add(label(args, kwargs), time.perf_counter() - wall, time.thread_time() - cpu)
        setattr(owner, attribute, timed)


def instrument() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.core.processor import MessageProcessor
    from bot.rasa_plugins.sqlite_lock_store import SQLiteLockStore
    from bot.rasa_plugins.tracker_store import HotlineSQLTrackerStore as SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    _wrap(MessageProcessor, "parse_message", "NLU (parse_message)")
    _wrap(MessageProcessor, "_predict_next_with_tracker", "dialogue prediction (graph, all policies)")
    _wrap(MemoizationPolicy, "predict_action_probabilities", "  MemoizationPolicy")
    _wrap(RulePolicy, "predict_action_probabilities", "  RulePolicy")
    _wrap(TEDPolicy, "predict_action_probabilities", "  TEDPolicy")
    _wrap(SQLTrackerStore, "retrieve", "tracker store: retrieve")
    _wrap(SQLTrackerStore, "save", "tracker store: save")
    for step in ("issue_ticket", "get_lock", "cleanup"):
        _wrap(SQLiteLockStore, step, "lock store (SQLite, shared by the Sanic workers)")
    _wrap(RemoteAction, "run", lambda self, *a, **k: f"custom action {self.name()} (round trip)")
    _wrap(EndpointConfig, "request", "  HTTP to the action server")
    _wrap(RemoteAction, "_validate_action_result", "  validating its answer (jsonschema)")
    _wrap(TemplatedNaturalLanguageGenerator, "generate", "responses (NLG)")


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _endpoints(action_url: str, tmp: Path) -> Any:
    from rasa.core.utils import AvailableEndpoints

    path = tmp / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n"
        f"  url: \"{action_url}/webhook\"\n"
        f"  token: \"{ACTION_SERVER_TOKEN}\"\n"
        "  enable_selective_domain: true\n"
        "tracker_store:\n  type: bot.rasa_plugins.tracker_store.HotlineSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: \"{tmp / 'trackers.db'}\"\n"
        "lock_store:\n  type: bot.rasa_plugins.sqlite_lock_store.SQLiteLockStore\n"
        f"  db: \"{tmp / 'locks.db'}\"\n", encoding="utf-8")
    return AvailableEndpoints.read_endpoints(str(path))


async def _conversation(agent: Any, index: int) -> tuple[int, float, float]:
    """One scripted conversation; its turns, Rasa wall and CPU seconds."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    turns, wall, cpu = 0, 0.0, 0.0
    sender = f"profile-{uuid.uuid4().hex[:10]}"
    metadata = {"channel": "voice", "phone": f"1390000{index:04d}"}
    for text in SCRIPT:
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender, metadata=metadata))
        wall += time.perf_counter() - started_wall
        cpu += time.process_time() - started_cpu
        turns += 1
    return turns, wall, cpu


async def _parse_alone(agent: Any) -> float:
    """CPU seconds of parsing the script's texts alone (the baseline), outside the turn timers."""
    TIMERS.paused = True
    try:
        started = time.process_time()
        for text in SCRIPT:
            await agent.parse_message(text)
        return time.process_time() - started
    finally:
        TIMERS.paused = False


async def profile(conversations: int, speedups: bool, tmp: Path, api_pid: int, actions_pid: int,
                  action_url: str) -> dict[str, Any]:
    """Conversations and their baseline alternate, so that both see the same machine: on a shared
    machine the CPU a parse costs drifts by a fifth from minute to minute."""
    import logging

    from rasa.core.agent import load_agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.INFO)  # as `rasa run` does without --debug
    # TensorFlow's threads as `make run` sets them for each Sanic worker (this process is one worker).
    from bot.ops.topology import rasa_workers_environment
    from rasa.utils.tensorflow.environment import setup_tf_environment

    os.environ.update({name: value for name, value in rasa_workers_environment(os.environ).items()
                       if name.startswith("TF_")})
    setup_tf_environment()
    if speedups:
        from bot.rasa_plugins.speedups import install

        install()
    instrument()  # before loading: the graph takes its components' methods when it is built
    agent = await load_agent(str(MODEL_PATH), endpoints=_endpoints(action_url, tmp))
    await _conversation(agent, 0)  # warm-up: jieba's dictionary, TensorFlow graphs, connections
    await _parse_alone(agent)
    await _parse_alone(agent)
    TIMERS.parts.clear()
    others = {"issue API": api_pid, "action server": actions_pid}
    before = {name: _proc_cpu(pid) for name, pid in others.items()}
    turns, wall, cpu, parse_cpu = 0, 0.0, 0.0, 0.0
    for index in range(conversations):
        conversation = await _conversation(agent, index + 1)
        turns, wall, cpu = turns + conversation[0], wall + conversation[1], cpu + conversation[2]
        parse_cpu += await _parse_alone(agent)
    other_cpu = {name: _proc_cpu(pid) - before[name] for name, pid in others.items()}
    parts = {name: Part(p.calls, p.wall, p.cpu) for name, p in TIMERS.parts.items()}
    return {"turns": turns, "wall": wall, "cpu": cpu, "other_cpu": other_cpu,
            "parse_cpu": parse_cpu / (conversations * len(SCRIPT)), "parts": parts}


def report(result: dict[str, Any], speedups: bool) -> str:
    turns = result["turns"]
    per = lambda seconds: seconds * 1000 / turns  # noqa: E731 - ms per turn
    rasa_cpu = per(result["cpu"])
    total_cpu = rasa_cpu + sum(per(s) for s in result["other_cpu"].values())
    parse = result["parse_cpu"] * 1000
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        f"### Where a turn's time goes ({when}; {machine})", "",
        f"`python -m bench.turn_profile`{'' if speedups else ' --without-speedups'}: {turns} turns "
        f"({turns // len(SCRIPT)} filing conversations of {len(SCRIPT)} turns, caller id in metadata), Rasa "
        "in-process with the hotline's endpoints, issue API and action server as processes.", "",
        "| part of a turn (Rasa process) | calls per turn | wall ms per turn | CPU ms per turn |",
        "|---|---:|---:|---:|",
    ]
    order = ["NLU (parse_message)", "dialogue prediction (graph, all policies)", "  MemoizationPolicy",
             "  RulePolicy", "  TEDPolicy", "tracker store: retrieve", "tracker store: save",
             "lock store (SQLite, shared by the Sanic workers)", "responses (NLG)"]
    actions = sorted(name for name in result["parts"] if name.startswith("custom action"))
    for name in order[:-1] + actions + ["  HTTP to the action server", "  validating its answer (jsonschema)",
                                        order[-1]]:
        part = result["parts"].get(name)
        if part is None:
            continue
        rows.append(f"| {name.replace('  ', '&nbsp;&nbsp;')} | {part.calls / turns:.2f} | {per(part.wall):.1f} | "
                    f"{per(part.cpu):.1f} |")
    rows += [
        f"| **whole turn in the Rasa process** | 1 | {per(result['wall']):.1f} | {rasa_cpu:.1f} |", "",
        "| CPU per turn | ms |", "|---|---:|",
        f"| Rasa process | {rasa_cpu:.1f} |",
        *(f"| {name} | {per(seconds):.1f} |" for name, seconds in result["other_cpu"].items()),
        f"| **all processes** | **{total_cpu:.1f}** |",
        f"| NLU alone on the same texts (parse only) | {parse:.1f} |",
        f"| **turn CPU / parse CPU** | **{total_cpu / parse:.1f}x** (goal: at most 2.5x) |", "",
        "Wall time of a custom action's round trip includes the action server's work and its issue API "
        "calls; policies run inside the dialogue prediction, several predictions per turn.", "",
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--without-speedups", action="store_true",
                        help="profile Rasa as shipped, without bot/rasa_plugins/speedups.py")
    parser.add_argument("--out", type=Path, default=RESULT, help="where to write the markdown table")
    args = parser.parse_args()
    if not MODEL_PATH.exists():
        print(f"No trained model at {MODEL_PATH}: run `make setup` (or `make model`) first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        print("starting the issue API and the action server...", file=sys.stderr, flush=True)
        api, api_url, tokens = start_issue_api(tmp / "api")
        actions, action_url = start_action_server(api_url, tokens["bot"], tmp / "actions")
        try:
            print(f"loading the model and running {args.conversations} conversations...", file=sys.stderr,
                  flush=True)
            result = asyncio.run(profile(args.conversations, not args.without_speedups, tmp,
                                         api.proc.pid, actions.proc.pid, action_url))
        finally:
            actions.stop()
            api.stop()
    table = report(result, not args.without_speedups)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
