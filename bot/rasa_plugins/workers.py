"""Sanic workers that do not outlive their Rasa server.

With `SANIC_WORKERS` above 1, `rasa run` forks the workers and only waits for them; if the server
process is killed outright (`kill -9`, the OOM killer) the workers would go on serving on the shared
port (SO_REUSEPORT), orphaned: the supervisor's restarted server would then run beside them and a
stop would leave them behind. Each forked child asks the kernel for SIGKILL when its parent dies.
Not SIGTERM: a worker still loading the model when its server dies has Sanic's handler for SIGTERM
in place but no running server for it to stop, and goes on to serve (seen in tests/test_make_run.py).
A normal stop is unaffected: the server stops its workers and waits for them before it exits.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
from typing import Any

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
_installed = False
_prctl: Any = None
_forking_parent = 0  # set just before each fork, so a child knows which process it must not outlive


def _remember_parent() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _die_with_parent() -> None:
    if _prctl is None:
        return
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != _forking_parent:  # the parent died before the request was made
        os._exit(1)


def stop_workers_with_server() -> None:
    """Idempotent; every process forked after this call ends when the process that forked it does."""
    global _installed, _prctl
    if _installed or not hasattr(os, "register_at_fork"):
        return
    try:  # looked up here, not in the forked child
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        return
    os.register_at_fork(before=_remember_parent, after_in_child=_die_with_parent)
    _installed = True
