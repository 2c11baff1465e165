"""Configuration from the environment: documented defaults, clear errors."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from issue_api.settings import DEFAULT_DB_URL, REPO_ROOT, SettingsError, from_env

TOKENS = {"ISSUE_API_TOKENS": "bot:a,operator:b,operator:c"}


def test_defaults() -> None:
    settings = from_env(TOKENS)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.db_url == DEFAULT_DB_URL == f"sqlite:///{REPO_ROOT / 'var' / 'issue_api.db'}"
    assert {token: account.role for token, account in settings.tokens.items()} == {
        "a": "bot", "b": "operator", "c": "operator"}
    assert settings.holidays == frozenset() and settings.now is None
    assert settings.callback_hours == ((dt.time(9), dt.time(12)), (dt.time(14), dt.time(18)))
    assert (settings.callback_lease_seconds, settings.callback_retry_minutes, settings.callback_max_attempts) == (
        600, 60, 3)


def test_callback_settings() -> None:
    settings = from_env({**TOKENS, "ISSUE_API_CALLBACK_HOURS": "14:00-17:30, 08:30-11:30",
                         "ISSUE_API_CALLBACK_LEASE_SECONDS": "120", "ISSUE_API_CALLBACK_RETRY_MINUTES": "30",
                         "ISSUE_API_CALLBACK_MAX_ATTEMPTS": "5"})
    assert settings.callback_hours == ((dt.time(8, 30), dt.time(11, 30)), (dt.time(14), dt.time(17, 30)))
    assert (settings.callback_lease_seconds, settings.callback_retry_minutes, settings.callback_max_attempts) == (
        120, 30, 5)


def test_holiday_ranges_and_fixed_clock() -> None:
    settings = from_env({**TOKENS, "ISSUE_API_HOLIDAYS": "2026-10-01..2026-10-03, 2026-01-01",
                         "ISSUE_API_NOW": "2026-01-05T09:00:00+08:00"})
    assert settings.holidays == {dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 3), dt.date(2026, 1, 1)}
    assert settings.now == dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("env", [
    {},  # no tokens at all
    {"ISSUE_API_TOKENS": "boss:x"},
    {"ISSUE_API_TOKENS": "bot"},
    {**TOKENS, "ISSUE_API_PORT": "eighty"},
    {**TOKENS, "ISSUE_API_HOLIDAYS": "2026-13-01"},
    {**TOKENS, "ISSUE_API_NOW": "2026-01-05T09:00:00"},  # no offset
    {**TOKENS, "ISSUE_API_CALLBACK_HOURS": "9-12"},
    {**TOKENS, "ISSUE_API_CALLBACK_HOURS": "12:00-09:00"},
    {**TOKENS, "ISSUE_API_CALLBACK_HOURS": "09:00-12:00,11:00-14:00"},  # overlapping
    {**TOKENS, "ISSUE_API_CALLBACK_MAX_ATTEMPTS": "0"},
    {**TOKENS, "ISSUE_API_CALLBACK_LEASE_SECONDS": "ten minutes"},
])
def test_bad_configuration_is_refused(env: dict) -> None:
    with pytest.raises(SettingsError):
        from_env(env)


def test_service_refuses_to_start_without_tokens() -> None:
    result = subprocess.run([sys.executable, "-m", "issue_api"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 2
    assert "ISSUE_API_TOKENS" in result.stderr


def test_service_explains_an_unreachable_database() -> None:
    result = subprocess.run([sys.executable, "-m", "issue_api"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "ISSUE_API_TOKENS": "bot:x",
                                 "ISSUE_API_DB": "postgresql+psycopg2://postgres@127.0.0.1:5432/issue_api_no_such_db"},
                            timeout=60)
    assert result.returncode == 1
    assert "cannot open the database" in result.stderr and "issue_api_no_such_db" in result.stderr
