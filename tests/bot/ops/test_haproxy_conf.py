"""The scaled hotline's HAProxy: what it answers itself, with no replica to pass a request to, is a
Chinese page, not HAProxy's stock English one."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from bot.ops import haproxy_conf
from bot.ops.topology import Ports
from tests.support.servers import free_port

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is installed by make setup")


def _config(tmp_path: Path) -> tuple[Path, int]:
    gateway = free_port()
    env = {"ISSUE_API_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()), "RASA_PORT": str(free_port()),
           "GATEWAY_PORT": str(gateway)}
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_conf.render(Ports.from_env(env), 1, tmp_path), encoding="utf-8")
    return path, gateway


def test_the_configuration_is_valid(tmp_path: Path) -> None:
    path, _ = _config(tmp_path)
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_with_no_gateway_up_a_browser_reads_a_chinese_page(tmp_path: Path) -> None:
    path, gateway = _config(tmp_path)
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{gateway}/console", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/html") and "charset=utf-8" in answer.headers["content-type"]
        page = answer.content.decode("utf-8")
        assert "服务暂时不可用" in page and "96767" in page
        assert "No server is available" not in page and "Service Unavailable" not in page
    finally:
        proxy.terminate()
        proxy.wait(10)
