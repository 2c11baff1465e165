"""Issue API throughput and latency: filings/s and lookups/s at 1 and 16 concurrent clients, on
SQLite and on PostgreSQL, against a live `python -m issue_api` on loopback.

`.venv/bin/python -m bench.issue_api_bench [--seconds N] [--backends sqlite,postgresql]`
Prints the figures and writes bench/results/issue_api_bench.md. Bounded: about 4 x N seconds per
backend plus start-up (default N = 6, well under two minutes in all).

Clients are asyncio tasks in one process, each with its own keep-alive connection, so that the load
generator steals as little as possible of the two cores from the server it measures.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import psycopg2
import uvloop

from tests.support.servers import REPO_ROOT, ServerProcess, free_port, python_cmd

RESULTS = REPO_ROOT / "bench" / "results" / "issue_api_bench.md"
TOKENS = {"bot": "bench-bot", "operator": "bench-operator"}
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CONCURRENCY = (1, 16)
LOAD_BEFORE = " / ".join(f"{value:.1f}" for value in os.getloadavg())  # other work on the machine skews figures


@dataclass
class Figure:
    backend: str
    operation: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: List[float]
    server_cpu_s: float = 0.0  # CPU time the server process used for this row (user + system)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / max(self.requests, 1)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _body(i: int) -> bytes:
    return json.dumps({
        "company": "西安某某电子科技有限公司",
        "contact_name": "王先生",
        "phone": f"139{i % 10**8:08d}",
        "category": "供水供电供气",
        "kind": "help",
        "description": "园区三号楼停电,至今没有恢复,影响生产。",
        "channel": "voice",
    }, ensure_ascii=False).encode("utf-8")


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    The load generator shares the two cores with the server it measures, so it must be cheap:
    one event loop with a task per simulated client costs far less CPU than threads + http.client.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None

    async def request(self, method: str, path: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKENS['bot']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body or b'')}\r\n\r\n")
        self.writer.write(head.encode("ascii") + (body or b""))
        assert self.reader is not None
        header_block = await self.reader.readuntil(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _client(port: int, make_request: Callable[[int], Tuple[str, str, Optional[bytes]]], stop_at: float,
                  latencies: List[float], errors: List[int], client_id: int) -> None:
    conn = Connection(port)
    i = client_id * 1_000_000
    while time.perf_counter() < stop_at:
        method, path, body = make_request(i)
        i += 1
        started = time.perf_counter()
        try:
            status, _ = await conn.request(method, path, body)
            ok = status < 300
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
            conn.close()
        latencies.append((time.perf_counter() - started) * 1000)
        if not ok:
            errors.append(1)
    conn.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc: the server's cost whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(backend: str, operation: str, port: int, clients: int, seconds: float,
            make_request: Callable[[int], Tuple[str, str, Optional[bytes]]], server_pid: int) -> Figure:
    latencies: List[float] = []
    errors: List[int] = []

    async def run() -> float:
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(_client(port, make_request, stop_at, latencies, errors, n) for n in range(clients)))
        return time.perf_counter() - started

    cpu_before = process_cpu_seconds(server_pid)
    elapsed = uvloop.run(run())
    cpu = process_cpu_seconds(server_pid) - cpu_before
    return Figure(backend, operation, clients, len(latencies), len(errors), elapsed, latencies, cpu)


def bench_backend(backend: str, db_url: str, seconds: float, log_dir: Path) -> List[Figure]:
    port = free_port()
    server = ServerProcess(
        python_cmd("-m", "issue_api"),
        health_url=f"http://127.0.0.1:{port}/api/v1/health",
        env={"ISSUE_API_PORT": str(port), "ISSUE_API_DB": db_url,
             "ISSUE_API_TOKENS": ",".join(f"{r}:{t}" for r, t in TOKENS.items())},
        log_path=log_dir / f"issue_api_{backend}.log",
    ).start()
    figures = []
    try:
        filed_ids: List[str] = []

        async def warm_up() -> None:  # also files the tickets the lookups read
            conn = Connection(port)
            for i in range(200):
                status, body = await conn.request("POST", "/api/v1/tickets", _body(i))
                filed_ids.append(json.loads(body)["id"])
            conn.close()

        asyncio.run(warm_up())
        for clients in CONCURRENCY:
            assert server.proc is not None
            figures.append(measure(backend, "file", port, clients, seconds,
                                   lambda i: ("POST", "/api/v1/tickets", _body(i)), server.proc.pid))
            figures.append(measure(backend, "lookup", port, clients, seconds,
                                   lambda i: ("GET", f"/api/v1/tickets/{filed_ids[i % len(filed_ids)]}", None),
                                   server.proc.pid))
    finally:
        server.stop()
    return figures


def create_pg_database() -> Tuple[str, str]:
    name = f"issue_api_bench_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return name, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(name: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def markdown(figures: List[Figure], seconds: float) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "### Issue API",
        "",
        f"`python -m bench.issue_api_bench`, {dt.date.today().isoformat()}, {machine}; one uvicorn worker "
        f"(httptools, uvloop, access log on), asyncio clients on the same machine, {seconds:g} s per row; "
        f"load average before the run {LOAD_BEFORE}.",
        "",
        "| backend | operation | clients | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = [
        "",
        "Each PostgreSQL filing waits for one WAL flush (synchronous_commit on, as shipped), so its figures "
        "follow the disk; \"server CPU\" is the API process's own user + system time per request, the figure "
        "least disturbed by other work on the machine.",
    ]
    for f in figures:
        lines.append(f"| {f.backend} | {f.operation} | {f.clients} | {f.rate:.0f} | {f.percentile(50):.1f} | "
                     f"{f.percentile(95):.1f} | {f.percentile(99):.1f} | {f.cpu_ms_per_request:.2f} | {f.errors} |")
    return "\n".join(lines + notes) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.issue_api_bench")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each measured row")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    figures: List[Figure] = []
    with tempfile.TemporaryDirectory(prefix="issue_api_bench_") as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                figures += bench_backend("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.seconds, Path(tmp))
            elif backend == "postgresql":
                name, url = create_pg_database()
                try:
                    figures += bench_backend("postgresql", url, args.seconds, Path(tmp))
                finally:
                    drop_pg_database(name)
            else:
                parser.error(f"unknown backend {backend}")
            for f in figures[-4:]:
                print(f"{f.backend:10} {f.operation:6} clients={f.clients:2} {f.rate:7.0f} req/s  "
                      f"p50={f.percentile(50):6.1f} p95={f.percentile(95):6.1f} p99={f.percentile(99):6.1f} ms  "
                      f"server cpu={f.cpu_ms_per_request:.2f} ms/req  errors={f.errors}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(figures, args.seconds), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
