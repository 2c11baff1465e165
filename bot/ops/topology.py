"""Which processes make up the hotline and where each answers: one table, read by the supervisor
config (`python -m bot run`), the health check (`python -m bot health`) and the tests.

Ports and hosts come from the same environment variables the processes read themselves, so what is
supervised and what is checked cannot drift apart from what each process serves.

Two shapes: `single_topology` (`make run`: each process once, SQLite files) and `scaled_topology`
(`make run-scaled`: HAProxy on the four public ports in front of N replicas of each process, all
state in PostgreSQL, live events and Rasa's conversation locks in Redis). Either way the ports that
other parts rely on (contract) answer the same.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from contract.settings import REPO_ROOT

VENV_BIN = REPO_ROOT / ".venv" / "bin"


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: str  # a shell command line, run from the repository root
    health_url: Optional[str] = None  # answers 2xx while the process serves
    environment: Mapping[str, str] = field(default_factory=dict)  # on top of the supervisor's own
    stop_seconds: int = 20


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name) or "").strip() or default


@dataclass(frozen=True)
class Ports:
    """The four public ports of the contract (each overridable like the processes' own variables)."""

    issue_api: int
    actions: int
    rasa: int
    gateway: int
    gateway_host: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Ports":
        return cls(int(_env(env, "ISSUE_API_PORT", "8000")), int(_env(env, "ACTIONS_PORT", "5055")),
                   int(_env(env, "RASA_PORT", "5005")), int(_env(env, "GATEWAY_PORT", "8080")),
                   _env(env, "GATEWAY_HOST", "127.0.0.1"))


@dataclass(frozen=True)
class ScaledStores:
    """Where a scaled hotline keeps its state: one PostgreSQL server (a database per kind of state)
    and one Redis server."""

    pg_url: str  # the server, without a database: postgresql+psycopg2://user:password@host:port
    redis_url: str  # redis://host:port
    prefix: str  # databases are <prefix>_issues, <prefix>_gateway, <prefix>_trackers, <prefix>_outbox

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ScaledStores":
        prefix = _env(env, "HOTLINE_PG_PREFIX", "hotline")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", prefix):
            raise ValueError("HOTLINE_PG_PREFIX must be lower-case letters, digits and _ (a database name prefix)")
        return cls(_env(env, "HOTLINE_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432").rstrip("/"),
                   _env(env, "HOTLINE_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/"), prefix)

    def database(self, kind: str) -> str:
        return f"{self.prefix}_{kind}"

    def url(self, kind: str) -> str:
        return f"{self.pg_url}/{self.database(kind)}"

    def databases(self) -> list[str]:
        return [self.database(kind) for kind in ("issues", "gateway", "trackers", "outbox")]


RASA_WORKERS = "2"


# How long a conversation's turn may hold its lock (Rasa's TICKET_LOCK_LIFETIME, default 60 s). A turn
# whose Rasa server died keeps its lock until then, and every later message of that conversation
# waits behind it: past the gateway's own wait for Rasa (GATEWAY_RASA_TIMEOUT, 30 s) the user is told
# the assistant cannot answer while the turn is still run later, its answer lost. Below that wait, and
# far above a real turn (at most three issue-API calls of ISSUE_API_CALL_BUDGET, 4 s, each).
LOCK_LIFETIME = "20"


def rasa_lock_environment(env: Mapping[str, str]) -> dict[str, str]:
    return {"TICKET_LOCK_LIFETIME": _env(env, "TICKET_LOCK_LIFETIME", LOCK_LIFETIME)}


def rasa_workers_environment(env: Mapping[str, str]) -> dict[str, str]:
    """Sanic workers of the Rasa server (RASA_WORKERS): on two cores two workers answer 60 paced
    conversations with a third of one worker's p95 (bench/turn_bench.py), the SQLite lock store of
    endpoints.yml keeps a conversation's turns in order across them. TensorFlow gets one thread per
    worker: the models are small, and more threads only compete with the other worker for the cores."""
    return {"SANIC_WORKERS": _env(env, "RASA_WORKERS", RASA_WORKERS),
            "TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}


def single_topology(env: Optional[Mapping[str, str]] = None) -> list[Program]:
    """`make run`: every process once, on the embedded defaults."""
    env = os.environ if env is None else env
    py, rasa = VENV_BIN / "python", VENV_BIN / "rasa"
    issue_port = _env(env, "ISSUE_API_PORT", "8000")
    actions_host, actions_port = _env(env, "ACTIONS_HOST", "127.0.0.1"), _env(env, "ACTIONS_PORT", "5055")
    rasa_host, rasa_port = _env(env, "RASA_HOST", "127.0.0.1"), _env(env, "RASA_PORT", "5005")
    gateway_host, gateway_port = _env(env, "GATEWAY_HOST", "127.0.0.1"), _env(env, "GATEWAY_PORT", "8080")
    endpoints = _env(env, "RASA_ENDPOINTS", "endpoints.yml")
    local = lambda host: "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: E731
    programs = [
        Program("issue_api", f"{py} -m issue_api", f"http://127.0.0.1:{issue_port}/api/v1/health"),
        Program("actions", f"{rasa} run actions --port {actions_port}",
                f"http://{local(actions_host)}:{actions_port}/health", {"SANIC_HOST": actions_host}),
        Program("rasa", f"{py} -m bot.ops.rasa_server -i {rasa_host} --port {rasa_port} "
                        f"--model models/hotline.tar.gz --endpoints {shlex.quote(endpoints)} "
                        "--credentials credentials.yml",
                f"http://{local(rasa_host)}:{rasa_port}/",
                # endpoints.yml sends the actions to ACTION_SERVER_URL: the action server started here.
                {**rasa_workers_environment(env), **rasa_lock_environment(env),
                 "ACTION_SERVER_URL": _env(env, "ACTION_SERVER_URL",
                                           f"http://{local(actions_host)}:{actions_port}/webhook")},
                stop_seconds=30),
        Program("gateway", f"{py} -m bot gateway", f"http://{local(gateway_host)}:{gateway_port}/api/v1/health"),
        Program("retention", f"{py} -m bot purge --every 24"),
    ]
    model = Path(_env(env, "VOSK_MODEL", str(REPO_ROOT / "models" / "vosk" / "vosk-model-small-cn-0.22")))
    if (model / "conf" / "model.conf").is_file():
        programs.append(Program("audiosocket", f"{py} -m bot audiosocket",
                                environment={"GATEWAY_URL": _env(env, "GATEWAY_URL",
                                                                 f"http://{local(gateway_host)}:{gateway_port}")}))
    return programs


def replica_port(public: int, index: int) -> int:
    """Replica `index` (1-based) of a public port listens on the ports just above it: 8080 -> 8081, 8082."""
    return public + index


def scaled_topology(env: Optional[Mapping[str, str]] = None) -> list[Program]:
    """`make run-scaled`: HAProxy on the public ports, HOTLINE_REPLICAS (default 2) of every server
    behind it, state in PostgreSQL and Redis (`ScaledStores`)."""
    from sqlalchemy.engine import make_url

    from bot.gateway.settings import is_loopback

    env = os.environ if env is None else env
    py, rasa = VENV_BIN / "python", VENV_BIN / "rasa"
    replicas = int(_env(env, "HOTLINE_REPLICAS", "2"))
    ports, stores = Ports.from_env(env), ScaledStores.from_env(env)
    trackers = make_url(stores.url("trackers"))
    redis = make_url(stores.redis_url.replace("redis://", "redis+x://", 1))  # any scheme make_url parses
    var_dir = Path(_env(env, "HOTLINE_VAR_DIR", str(REPO_ROOT / "var")))
    programs = [Program("haproxy", f"/usr/sbin/haproxy -db -f {shlex.quote(str(var_dir / 'haproxy.cfg'))}",
                        stop_seconds=10)]
    for i in range(1, replicas + 1):
        programs += [
            Program(f"issue_api_{i}", f"{py} -m issue_api",
                    f"http://127.0.0.1:{replica_port(ports.issue_api, i)}/api/v1/health",
                    {"ISSUE_API_PORT": str(replica_port(ports.issue_api, i)), "ISSUE_API_DB": stores.url("issues")}),
            Program(f"actions_{i}", f"{rasa} run actions --port {replica_port(ports.actions, i)}",
                    f"http://127.0.0.1:{replica_port(ports.actions, i)}/health",
                    {"SANIC_HOST": "127.0.0.1", "ACTIONS_OUTBOX_DB": stores.url("outbox"),
                     "ISSUE_API_URL": f"http://127.0.0.1:{ports.issue_api}"}),
            Program(f"rasa_{i}", f"{py} -m bot.ops.rasa_server -i 127.0.0.1 "
                                 f"--port {replica_port(ports.rasa, i)} --model models/hotline.tar.gz "
                                 "--endpoints endpoints.scale.yml --credentials credentials.yml",
                    f"http://127.0.0.1:{replica_port(ports.rasa, i)}/",
                    {**rasa_lock_environment(env), "ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions}/webhook",
                     "RASA_DB_HOST": trackers.host or "127.0.0.1", "RASA_DB_PORT": str(trackers.port or 5432),
                     "RASA_DB_NAME": trackers.database or "", "RASA_DB_USER": trackers.username or "",
                     "RASA_DB_PASSWORD": trackers.password or "",
                     "REDIS_HOST": redis.host or "127.0.0.1", "REDIS_PORT": str(redis.port or 6379)},
                    stop_seconds=30),
            Program(f"gateway_{i}", f"{py} -m bot gateway --host 127.0.0.1 --port {replica_port(ports.gateway, i)}",
                    f"http://127.0.0.1:{replica_port(ports.gateway, i)}/api/v1/health",
                    {"GATEWAY_DB": stores.url("gateway"), "GATEWAY_EVENTS_REDIS_URL": stores.redis_url,
                     # The replicas listen on loopback but browsers reach HAProxy on the public address.
                     "GATEWAY_COOKIE_SECURE": _env(env, "GATEWAY_COOKIE_SECURE",
                                                   "0" if is_loopback(ports.gateway_host) else "1"),
                     "ISSUE_API_URL": f"http://127.0.0.1:{ports.issue_api}",
                     "RASA_URL": f"http://127.0.0.1:{ports.rasa}"}),
        ]
    programs.append(Program("retention", f"{py} -m bot purge --every 24",
                            environment={"GATEWAY_DB": stores.url("gateway"), "ACTIONS_OUTBOX_DB": stores.url("outbox"),
                                         "RASA_TRACKER_DB_URL": stores.url("trackers")}))
    model = Path(_env(env, "VOSK_MODEL", str(REPO_ROOT / "models" / "vosk" / "vosk-model-small-cn-0.22")))
    if (model / "conf" / "model.conf").is_file():
        programs.append(Program("audiosocket", f"{py} -m bot audiosocket", environment={
            "GATEWAY_URL": f"http://127.0.0.1:{ports.gateway}"}))
    return programs


def public_checks(env: Optional[Mapping[str, str]] = None) -> list[Program]:
    """The public ports as HAProxy serves them (the health check of a scaled hotline)."""
    env = os.environ if env is None else env
    ports = Ports.from_env(env)
    return [
        Program("issue_api", "", f"http://127.0.0.1:{ports.issue_api}/api/v1/health"),
        Program("actions", "", f"http://127.0.0.1:{ports.actions}/health"),
        Program("rasa", "", f"http://127.0.0.1:{ports.rasa}/"),
        Program("gateway", "", f"http://127.0.0.1:{ports.gateway}/api/v1/health"),
    ]
