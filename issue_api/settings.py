"""Configuration of the issue API, read once from environment variables.

Every knob lives here so that an operator can see in one place what can be changed without
touching code; secrets (the bearer tokens) only ever come from the environment.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Mapping, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB_URL = f"sqlite:///{REPO_ROOT / 'var' / 'issue_api.db'}"
ROLES = ("bot", "operator", "department", "admin")



class SettingsError(ValueError):
    """A configuration value cannot be understood; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    db_url: str = DEFAULT_DB_URL
    tokens: Mapping[str, str] = field(default_factory=dict)  # token -> role
    holidays: FrozenSet[dt.date] = frozenset()
    extra_workdays: FrozenSet[dt.date] = frozenset()
    now: Optional[dt.datetime] = None  # fixed clock, for demos and tests only
    max_body_bytes: int = 64 * 1024
    workers: int = 1
    access_log: bool = True
    log_level: str = "info"


def parse_tokens(raw: str) -> Dict[str, str]:
    """Turn "role:token,role:token" into {token: role}; a role may have several tokens."""
    tokens: Dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        role, sep, token = item.partition(":")
        role, token = role.strip(), token.strip()
        if not sep or role not in ROLES or not token:
            raise SettingsError(
                f"ISSUE_API_TOKENS: {item.split(':')[0]!r} is not 'role:token' with role in {', '.join(ROLES)}"
            )
        tokens[token] = role
    return tokens


def parse_dates(raw: str, name: str) -> FrozenSet[dt.date]:
    """Parse "2026-10-01..2026-10-07,2026-01-01": single days and inclusive ranges."""
    days = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        first, _, last = item.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
        except ValueError as exc:
            raise SettingsError(f"{name}: {item!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from exc
        if end < start:
            raise SettingsError(f"{name}: range {item!r} ends before it starts")
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return frozenset(days)


def parse_now(raw: str) -> Optional[dt.datetime]:
    if not raw.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"ISSUE_API_NOW: {raw!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise SettingsError("ISSUE_API_NOW must carry a UTC offset, e.g. 2026-01-05T09:00:00+08:00")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {raw!r} is not an integer") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def from_env(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Build the settings from `env` (the process environment by default)."""
    env = os.environ if env is None else env
    raw_tokens = env.get("ISSUE_API_TOKENS", "").strip()
    if not raw_tokens:
        raise SettingsError(
            "ISSUE_API_TOKENS is not set; give every role a secret token, for example "
            "ISSUE_API_TOKENS=\"bot:$(openssl rand -hex 16),operator:$(openssl rand -hex 16)\""
        )
    return Settings(
        host=env.get("ISSUE_API_HOST", "").strip() or "127.0.0.1",
        port=_int(env, "ISSUE_API_PORT", 8000),
        db_url=env.get("ISSUE_API_DB", "").strip() or DEFAULT_DB_URL,
        tokens=parse_tokens(raw_tokens),
        holidays=parse_dates(env.get("ISSUE_API_HOLIDAYS", ""), "ISSUE_API_HOLIDAYS"),
        extra_workdays=parse_dates(env.get("ISSUE_API_WORKDAYS", ""), "ISSUE_API_WORKDAYS"),
        now=parse_now(env.get("ISSUE_API_NOW", "")),
        max_body_bytes=_int(env, "ISSUE_API_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
        workers=_int(env, "ISSUE_API_WORKERS", 1, minimum=1),
        access_log=_bool(env, "ISSUE_API_ACCESS_LOG", True),
        log_level=env.get("ISSUE_API_LOG_LEVEL", "").strip().lower() or "info",
    )
