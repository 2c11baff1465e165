"""A Sanic worker forked by the Rasa server ends when the server is killed outright."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

SERVER = textwrap.dedent("""
    import os, signal, sys, time
    from bot.rasa_plugins.workers import stop_workers_with_server
    stop_workers_with_server()
    stop_workers_with_server()  # twice, as a second channel load would: still one handler
    child = os.fork()
    if child == 0:
        # A worker that does not end on SIGTERM: one still loading the model when its server dies.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    time.sleep(60)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper is gone too
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_worker_ends_when_its_server_is_killed_with_sigkill():
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    worker = int(server.stdout.readline())
    assert _alive(worker)
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived its server"
