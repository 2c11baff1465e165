"""Every process reads its settings the same way: empty means default, booleans are strict, a bad
value stops start-up naming the variable, state files live under one directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from actions.settings import Settings as ActionSettings
from bot.gateway.settings import GatewaySettings
from bot.voice.settings import VoiceSettings
from contract.settings import REPO_ROOT, SettingsError
from issue_api.settings import Settings as IssueApiSettings

TOKENS = {"ISSUE_API_TOKENS": "bot:b"}
ALL = [(IssueApiSettings, TOKENS), (ActionSettings, {}), (GatewaySettings, {}), (VoiceSettings, {})]


@pytest.mark.parametrize("cls, base", ALL)
def test_an_empty_variable_means_the_default(cls, base) -> None:
    defaults = cls.from_env(base)
    blank = {name: "" for field in cls.__fields__.values() for name in _names(field)}
    assert _comparable(cls.from_env({**blank, **base}).dict()) == _comparable(defaults.dict())


@pytest.mark.parametrize("word, value", [("1", True), ("0", False), ("true", True), ("FALSE", False), ("on", True),
                                         ("off", False), ("yes", True), ("No", False)])
def test_booleans_take_the_usual_words(word: str, value: bool) -> None:
    assert ActionSettings.from_env({"ACTIONS_OUTBOX_WORKER": word}).outbox_worker is value
    assert GatewaySettings.from_env({"GATEWAY_COOKIE_SECURE": word}).cookie_secure is value
    assert VoiceSettings.from_env({"VOICE_BARGE_IN": word}).barge_in is value
    assert IssueApiSettings.from_env({**TOKENS, "ISSUE_API_ACCESS_LOG": word}).access_log is value


@pytest.mark.parametrize("cls, env, variable", [
    (ActionSettings, {"ACTIONS_OUTBOX_WORKER": "maybe"}, "ACTIONS_OUTBOX_WORKER"),
    (GatewaySettings, {"GATEWAY_COOKIE_SECURE": "enabled"}, "GATEWAY_COOKIE_SECURE"),
    (GatewaySettings, {"GATEWAY_PORT": "eighty"}, "GATEWAY_PORT"),
    (VoiceSettings, {"VOICE_SAMPLE_RATE": "16k"}, "VOICE_SAMPLE_RATE"),
    (IssueApiSettings, {**TOKENS, "ISSUE_API_WORKERS": "0"}, "ISSUE_API_WORKERS"),
])
def test_a_value_that_cannot_be_used_names_its_variable(cls, env, variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        cls.from_env(env)


def test_secrets_are_never_shown_in_errors_or_reprs() -> None:
    with pytest.raises(SettingsError) as error:
        GatewaySettings.from_env({"GATEWAY_OPERATORS": "alice"})
    assert "GATEWAY_OPERATORS" in str(error.value) and "alice" in str(error.value)
    settings = ActionSettings.from_env({"ISSUE_API_BOT_TOKEN": "very-secret-token"})
    assert "very-secret-token" not in repr(settings)


def test_token_variables_name_their_role_and_the_contract_names_still_work() -> None:
    assert ActionSettings.from_env({"ISSUE_API_BOT_TOKEN": "b", "ISSUE_API_TOKEN": "x"}).issue_api_token == "b"
    assert ActionSettings.from_env({"ISSUE_API_TOKEN": "x"}).issue_api_token == "x"
    assert GatewaySettings.from_env({"ISSUE_API_OPERATOR_TOKEN": "o", "ISSUE_API_TOKEN": "x"}).issue_api_token == "o"
    assert GatewaySettings.from_env({"ISSUE_API_OPERATOR_TOKEN": "", "ISSUE_API_TOKEN": "x"}).issue_api_token == "x"


def test_state_files_live_under_one_directory_whatever_the_working_directory(tmp_path: Path) -> None:
    env = {**TOKENS, "HOTLINE_VAR_DIR": str(tmp_path)}
    assert GatewaySettings.from_env(env).db_path == tmp_path / "gateway.db"
    assert ActionSettings.from_env(env).outbox_db == tmp_path / "outbox.db"
    assert IssueApiSettings.from_env(env).db_url == f"sqlite:///{tmp_path / 'issue_api.db'}"
    # Relative paths are the repository's, not the working directory's.
    relative = {**TOKENS, "HOTLINE_VAR_DIR": "var/elsewhere", "GATEWAY_DB": "var/gw.db"}
    assert GatewaySettings.from_env(relative).db_path == REPO_ROOT / "var" / "gw.db"
    assert ActionSettings.from_env(relative).outbox_db == REPO_ROOT / "var" / "elsewhere" / "outbox.db"
    script = "from actions.settings import Settings; print(Settings.from_env().outbox_db)"
    printed = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "HOTLINE_VAR_DIR": "",
                                  "ACTIONS_OUTBOX_DB": ""}, check=True).stdout.strip()
    assert printed == str(REPO_ROOT / "var" / "outbox.db")


def test_the_gateway_refuses_to_start_with_a_bad_value_and_says_which() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "gateway"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], "GATEWAY_PORT": "eighty"}, timeout=60)
    assert result.returncode == 2
    assert "GATEWAY_PORT" in result.stderr and "Traceback" not in result.stderr


def _names(field) -> list[str]:
    env = field.field_info.extra.get("env") or []
    return [env] if isinstance(env, str) else list(env)


def _comparable(values: dict) -> dict:
    """A generated random session key differs on every read."""
    return {k: v for k, v in values.items() if k != "secret"}
