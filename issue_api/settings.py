"""Configuration of the issue API, read once from environment variables (contract.settings rules:
empty means default, bad values stop start-up naming the variable).

Every knob lives here so that an operator can see in one place what can be changed without
touching code; secrets (the bearer tokens) only ever come from the environment.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from pydantic import Field, validator

from contract.settings import DEFAULT_VAR_DIR, REPO_ROOT, HotlineSettings, SettingsError, repo_path

from .accounts import ROLES, Account, parse_tokens

DEFAULT_DB_URL = f"sqlite:///{DEFAULT_VAR_DIR / 'issue_api.db'}"

__all__ = ["REPO_ROOT", "DEFAULT_DB_URL", "ROLES", "Settings", "SettingsError", "from_env", "parse_tokens"]


def parse_dates(raw: str) -> FrozenSet[dt.date]:
    """Parse "2026-10-01..2026-10-07,2026-01-01": single days and inclusive ranges."""
    days = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        first, _, last = item.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
        except ValueError as exc:
            raise ValueError(f"{item!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from exc
        if end < start:
            raise ValueError(f"range {item!r} ends before it starts")
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return frozenset(days)


def parse_hours(raw: str) -> Tuple[Tuple[dt.time, dt.time], ...]:
    """Parse "09:00-12:00,14:00-18:00": windows of a day (start inclusive, end exclusive), in order."""
    windows = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        first, sep, last = item.partition("-")
        try:
            start, end = dt.time.fromisoformat(first.strip()), dt.time.fromisoformat(last.strip())
        except ValueError as exc:
            raise ValueError(f"{item!r} is not HH:MM-HH:MM") from exc
        if not sep or end <= start:
            raise ValueError(f"window {item!r} must end after it starts")
        windows.append((start, end))
    if not windows:
        raise ValueError("no HH:MM-HH:MM window")
    windows.sort()
    for (_, end), (start, _) in zip(windows, windows[1:]):
        if start < end:
            raise ValueError(f"windows overlap at {start.isoformat('minutes')}")
    return tuple(windows)


DEFAULT_CALLBACK_HOURS = parse_hours("09:00-12:00,14:00-18:00")


class Settings(HotlineSettings):
    host: str = Field("127.0.0.1", env="ISSUE_API_HOST")
    port: int = Field(8000, env="ISSUE_API_PORT", ge=1, le=65535)
    db_url: str = Field("", env="ISSUE_API_DB", description="SQLAlchemy URL; default an SQLite file in the state directory")
    tokens: Dict[str, Account] = Field(..., env="ISSUE_API_TOKENS", repr=False, description="token -> account")
    # Keys the hashes of the query codes (查询码): without it a copy of the database alone is not enough
    # to try the million possible codes offline.
    secret: str = Field("", env="ISSUE_API_SECRET", repr=False)
    holidays: FrozenSet[dt.date] = Field(frozenset(), env="ISSUE_API_HOLIDAYS")
    extra_workdays: FrozenSet[dt.date] = Field(frozenset(), env="ISSUE_API_WORKDAYS")
    now: Optional[dt.datetime] = Field(None, env="ISSUE_API_NOW", description="fixed clock, for demos and tests only")
    # 回访 (callbacks.py): when reporters may be called (Beijing time, working days only), how long a
    # claimed call blocks other dialers, when an unanswered one is tried again, and how often.
    callback_hours: Tuple[Tuple[dt.time, dt.time], ...] = Field(DEFAULT_CALLBACK_HOURS, env="ISSUE_API_CALLBACK_HOURS")
    callback_lease_seconds: int = Field(600, env="ISSUE_API_CALLBACK_LEASE_SECONDS", ge=10, le=86400)
    callback_retry_minutes: int = Field(60, env="ISSUE_API_CALLBACK_RETRY_MINUTES", ge=1, le=7 * 24 * 60)
    callback_max_attempts: int = Field(3, env="ISSUE_API_CALLBACK_MAX_ATTEMPTS", ge=1, le=20)
    max_body_bytes: int = Field(64 * 1024, env="ISSUE_API_MAX_BODY_BYTES", ge=1024)
    workers: int = Field(1, env="ISSUE_API_WORKERS", ge=1)
    access_log: bool = Field(True, env="ISSUE_API_ACCESS_LOG")
    log_level: str = Field("info", env="ISSUE_API_LOG_LEVEL")

    @validator("db_url", always=True)
    def _db_url(cls, value: str, values: Dict[str, Any]) -> str:  # noqa: N805
        if not value:
            return f"sqlite:///{values.get('var_dir', DEFAULT_VAR_DIR) / 'issue_api.db'}"
        prefix = "sqlite:///"
        if value.startswith(prefix) and value[len(prefix):] not in ("", ":memory:"):
            return prefix + str(repo_path(value[len(prefix):]))  # relative to the repository, not the cwd
        return value

    @validator("tokens", pre=True)
    def _tokens(cls, value: Any) -> Any:  # noqa: N805
        if isinstance(value, str):
            tokens = parse_tokens(value)
            if not tokens:
                raise ValueError("no 'role:token' entry")
            return tokens
        return value

    @validator("holidays", "extra_workdays", pre=True)
    def _dates(cls, value: Any) -> Any:  # noqa: N805
        return parse_dates(value) if isinstance(value, str) else value

    @validator("callback_hours", pre=True)
    def _hours(cls, value: Any) -> Any:  # noqa: N805
        return parse_hours(value) if isinstance(value, str) else value

    @validator("now", pre=True)
    def _now(cls, value: Any) -> Any:  # noqa: N805
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.strip())
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an ISO 8601 time") from exc
            if parsed.tzinfo is None:
                raise ValueError("must carry a UTC offset, e.g. 2026-01-05T09:00:00+08:00")
            return parsed
        return value

    @validator("log_level")
    def _level(cls, value: str) -> str:  # noqa: N805
        return value.lower()


MISSING_TOKENS_HINT = (
    "give every role a secret token, for example "
    "ISSUE_API_TOKENS=\"bot:$(openssl rand -hex 16),operator:$(openssl rand -hex 16)\""
)


def from_env(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Build the settings from `env` (the process environment by default)."""
    return Settings.from_env(env)
