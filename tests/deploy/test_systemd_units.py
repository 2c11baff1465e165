"""The systemd units shipped for production start the same processes `make run` supervises, and
restart them when they die."""
from __future__ import annotations

import configparser
import importlib.util
import re

import pytest

from tests.support.servers import REPO_ROOT

UNITS = sorted((REPO_ROOT / "deploy" / "systemd").glob("*.service"))


def _unit(path):  # type: ignore[no-untyped-def]
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path)
    return parser


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_a_real_command_privately_and_is_restarted(path) -> None:  # type: ignore[no-untyped-def]
    service = _unit(path)["Service"]
    command = service["ExecStart"]
    module = re.search(r"python -m ([\w.]+)", command)
    if module:
        assert importlib.util.find_spec(module.group(1)) is not None, command
    else:
        assert re.search(r"/\.venv/bin/rasa run\b", command), command
    assert service["EnvironmentFile"] == "/etc/hotline/hotline.env" and service["UMask"] == "0077"
    if service.get("Type") != "oneshot":
        assert service["Restart"] == "always"


def test_every_supervised_process_has_a_unit() -> None:
    from bot.ops.topology import single_topology

    names = {path.name.split("@")[0].split(".")[0] for path in UNITS}
    wanted = {"issue_api": "hotline-issue-api", "actions": "hotline-actions", "rasa": "hotline-rasa",
              "gateway": "hotline-gateway", "retention": "hotline-purge"}
    for program in single_topology({}):
        assert wanted.get(program.name, f"hotline-{program.name}") in names


def test_the_gateway_behind_the_tls_balancer_sends_session_cookies_over_https_only() -> None:
    unit = (REPO_ROOT / "deploy" / "systemd" / "hotline-gateway@.service").read_text(encoding="utf-8")
    assert re.search(r"^Environment=GATEWAY_COOKIE_SECURE=1$", unit, re.MULTILINE)
