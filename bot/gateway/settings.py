"""The gateway's configuration, read once from the environment.

Everything a deployment may need to change lives here, with a default that works for `make run` on
one machine; secrets (operator passwords, the session key, the issue API token) come only from the
environment.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Mapping

import bcrypt

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


def parse_operators(spec: str) -> dict[str, bytes]:
    """`"name:password,name2:$2b$..."` -> {name: bcrypt hash}.

    Plain passwords are hashed at start so that none is kept in memory in clear; a value that is
    already a bcrypt hash is taken as is, so production can avoid plain passwords in the environment.
    """
    operators: dict[str, bytes] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, password = item.partition(":")
        name = name.strip()
        if not sep or not name or not password:
            raise ValueError(f"GATEWAY_OPERATORS entry {name or item[:10]!r} must look like name:password")
        if password.startswith(BCRYPT_PREFIXES):
            operators[name] = password.encode()
        else:
            operators[name] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10))
    return operators


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration that must be above zero (a zero retry interval would spin)."""
    value = float(env.get(name, default))
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {value:g}")
    return value


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    issue_api_url: str = "http://127.0.0.1:8000"
    issue_api_token: str = ""
    db_path: str = "var/gateway.db"
    operators: Mapping[str, bytes] = field(default_factory=dict)
    secret: str = ""
    secret_generated: bool = False
    cookie_secure: bool = False
    session_hours: float = 12.0
    max_message_chars: int = 500
    messages_per_minute: int = 20
    rasa_timeout: float = 30.0
    log_level: str = "info"
    # Ratings given before their ticket was resolved are retried this often (seconds), and given up
    # after this many days without the ticket being resolved.
    rating_retry_seconds: float = 300.0  # GATEWAY_RATING_RETRY_SECONDS
    rating_max_age_days: float = 30.0  # GATEWAY_RATING_MAX_AGE_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "GatewaySettings":
        env = os.environ if env is None else env
        secret = env.get("GATEWAY_SECRET", "")
        return cls(
            host=env.get("GATEWAY_HOST", cls.host),
            port=int(env.get("GATEWAY_PORT", cls.port)),
            rasa_url=env.get("RASA_URL", cls.rasa_url).rstrip("/"),
            issue_api_url=env.get("ISSUE_API_URL", cls.issue_api_url).rstrip("/"),
            issue_api_token=env.get("ISSUE_API_TOKEN", ""),
            db_path=env.get("GATEWAY_DB", cls.db_path),
            operators=parse_operators(env.get("GATEWAY_OPERATORS", "")),
            secret=secret or secrets.token_urlsafe(32),
            secret_generated=not secret,
            cookie_secure=_flag(env.get("GATEWAY_COOKIE_SECURE", "0")),
            session_hours=float(env.get("GATEWAY_SESSION_HOURS", cls.session_hours)),
            max_message_chars=int(env.get("GATEWAY_MAX_MESSAGE_CHARS", cls.max_message_chars)),
            messages_per_minute=int(env.get("GATEWAY_MESSAGES_PER_MINUTE", cls.messages_per_minute)),
            rasa_timeout=float(env.get("GATEWAY_RASA_TIMEOUT", cls.rasa_timeout)),
            log_level=env.get("GATEWAY_LOG_LEVEL", cls.log_level),
            rating_retry_seconds=_positive(env, "GATEWAY_RATING_RETRY_SECONDS", cls.rating_retry_seconds),
            rating_max_age_days=_positive(env, "GATEWAY_RATING_MAX_AGE_DAYS", cls.rating_max_age_days),
        )
