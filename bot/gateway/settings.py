"""The gateway's configuration, read once from the environment (contract.settings rules).

Everything a deployment may need to change lives here, with a default that works for `make run` on
one machine; secrets (operator and department passwords, the session key, the issue API and channel
tokens) come only from the environment.

Department users of the workbench (GATEWAY_DEPARTMENTS="user:password:<department name>,...") work
through the issue API with their department's own scoped token, which the gateway takes from
ISSUE_API_TOKENS (`department/<department name>:TOKEN`, the issue API's own list, which `make run`
exports to every process): a user whose department has no token there stops the start.
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import bcrypt
from pydantic import Field, root_validator, validator

from contract.settings import FALSE_WORDS, TRUE_WORDS, HotlineSettings

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
DEPARTMENT_PREFIX = "department/"


_BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def hash_password(password: str, name: str = "") -> bytes:
    """A bcrypt hash; a value that already is one is taken as is.

    The salt comes from the name and the password, so that the same account with the same password has
    the same hash at every start: the hash then tells whether a password changed since a session began,
    and a changed one ends the sessions of whoever had the old one (SessionStore.end_changed_credentials).
    """
    if password.startswith(BCRYPT_PREFIXES):
        return password.encode()
    digest = hashlib.sha256(f"gateway-account-salt\0{name}\0{password}".encode("utf-8", "surrogatepass")).digest()
    # 22 characters of bcrypt's base64 carry 128 bits: the last one only its top two.
    salt = bytes(_BCRYPT_ALPHABET[b % 64] for b in digest[:21]) + bytes([_BCRYPT_ALPHABET[(digest[21] % 4) * 16]])
    return bcrypt.hashpw(password.encode("utf-8", "surrogatepass"), b"$2b$10$" + salt)


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
            raise ValueError(f"entry {name or item[:10]!r} must look like name:password")
        operators[name] = hash_password(password, name)
    return operators


def parse_departments(spec: str) -> dict[str, tuple[bytes, str]]:
    """`"zhang:password:城市管理和综合执法局,li:$2b$...:生态环境局"` -> {user: (bcrypt hash, department)}.

    The user is what comes before the first colon, the department what follows the last one (a
    department name holds no colon), the password everything in between. Passwords are hashed like
    the operators'.
    """
    users: dict[str, tuple[bytes, str]] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, rest = item.partition(":")
        password, sep, department = rest.rpartition(":")
        name, department = name.strip(), department.strip()
        if not name:  # what follows would be the password: not shown
            raise ValueError("an entry has no user name: each must look like user:password:<department name>")
        if not sep or not password or not department:
            raise ValueError(f"entry {name!r} must look like user:password:<department name>")
        if name in users:
            raise ValueError(f"user {name!r} is listed twice")
        users[name] = (hash_password(password, name), department)
    return users


def parse_issue_api_tokens(spec: str) -> dict[str, str]:
    """The issue API's `"role:token,department/<name>:token"` -> {account: token} (the first token
    of each account: "operator", "department/城市管理和综合执法局", ...)."""
    tokens: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        account, sep, token = item.rpartition(":")
        if sep and account.strip() and token.strip():
            tokens.setdefault(account.strip(), token.strip())
    return tokens


class GatewaySettings(HotlineSettings):
    host: str = Field("127.0.0.1", env="GATEWAY_HOST")
    port: int = Field(8080, env="GATEWAY_PORT", ge=1, le=65535)
    rasa_url: str = Field("http://127.0.0.1:5005", env="RASA_URL")
    rasa_token: str = Field("", env="RASA_REST_TOKEN", repr=False)  # when Rasa's REST channel asks for one
    issue_api_url: str = Field("http://127.0.0.1:8000", env="ISSUE_API_URL")
    # The operator role's token (ticket panel, stats, ratings); ISSUE_API_TOKEN is the contract's name.
    issue_api_token: str = Field("", env=["ISSUE_API_OPERATOR_TOKEN", "ISSUE_API_TOKEN"], repr=False)
    # The voice adapters' token for the channel API and /ws/audio; unset, both refuse everything.
    channel_token: str = Field("", env="GATEWAY_CHANNEL_TOKEN", repr=False)
    # /ws/audio: audio sockets served at once (each decodes speech), seconds a new socket has to send
    # its start message, seconds without any frame after which a socket is closed.
    max_audio_connections: int = Field(8, env="GATEWAY_MAX_AUDIO_CONNECTIONS", ge=1)
    # Largest request body (bytes) any route reads; larger ones get 413 before they are read.
    max_body_bytes: int = Field(64 * 1024, env="GATEWAY_MAX_BODY_BYTES", ge=1024)
    audio_start_timeout: float = Field(5.0, env="GATEWAY_AUDIO_START_TIMEOUT", gt=0)
    audio_idle_timeout: float = Field(60.0, env="GATEWAY_AUDIO_IDLE_TIMEOUT", gt=0)
    # The state database: an SQLite file (default var/gateway.db), or a PostgreSQL URL that several
    # gateways share (conversations, transcripts, sessions, login attempts, audit log).
    db_file: Optional[str] = Field(None, env="GATEWAY_DB")
    # Redis URL for live events between gateways (an operator on one, the user on another); unset,
    # events stay in this process, which is right for a single gateway.
    events_url: str = Field("", env="GATEWAY_EVENTS_REDIS_URL", repr=False)
    operators: Dict[str, bytes] = Field({}, env="GATEWAY_OPERATORS", repr=False)
    # The issue API's own account list: where department users' tokens come from (and the operator
    # token when ISSUE_API_OPERATOR_TOKEN is not set).
    issue_api_tokens: Dict[str, str] = Field({}, env="ISSUE_API_TOKENS", repr=False)
    # Department users of /department: user -> (bcrypt hash, department name).
    departments: Dict[str, Tuple[bytes, str]] = Field({}, env="GATEWAY_DEPARTMENTS", repr=False)
    secret: str = Field("", env="GATEWAY_SECRET", repr=False)
    secret_generated: bool = False
    # auto: Secure unless the gateway listens on loopback only (then a TLS proxy in front is not
    # assumed); 1 or 0 to force it either way. See `cookie_secure`.
    cookie_secure_mode: str = Field("auto", env="GATEWAY_COOKIE_SECURE")
    session_hours: float = Field(12.0, env="GATEWAY_SESSION_HOURS", gt=0)
    session_idle_minutes: float = Field(30.0, env="GATEWAY_SESSION_IDLE_MINUTES", gt=0)
    max_message_chars: int = Field(500, env="GATEWAY_MAX_MESSAGE_CHARS", ge=1)
    messages_per_minute: int = Field(20, env="GATEWAY_MESSAGES_PER_MINUTE", ge=1)
    # Per client address (behind a proxy, the one it forwards): new web chats started in 10 minutes,
    # and chat sockets open at once. One address cannot flood the operators' queue or Rasa by
    # making up new access keys; an office behind one address stays well under both.
    new_chats_per_address: int = Field(30, env="GATEWAY_NEW_CHATS_PER_ADDRESS", ge=1)
    chat_sockets_per_address: int = Field(30, env="GATEWAY_CHAT_SOCKETS_PER_ADDRESS", ge=1)
    # Per client address: connects in a minute whose greeting looks up the chat's tickets in the issue
    # API (up to 10 each) for the rating form. Beyond it a reconnect is greeted without the form (it
    # shows at the next one): reconnecting in a loop cannot multiply into calls on the issue API.
    rating_lookups_per_address: int = Field(30, env="GATEWAY_RATING_LOOKUPS_PER_ADDRESS", ge=1)
    rasa_timeout: float = Field(30.0, env="GATEWAY_RASA_TIMEOUT", gt=0)
    log_level: str = Field("info", env="GATEWAY_LOG_LEVEL")
    # Ratings the issue API could not take (down, token refused) are retried this often (seconds), and
    # given up after this many days.
    rating_retry_seconds: float = Field(300.0, env="GATEWAY_RATING_RETRY_SECONDS", gt=0)
    rating_max_age_days: float = Field(30.0, env="GATEWAY_RATING_MAX_AGE_DAYS", gt=0)
    # How often (seconds) consoles' review requests and alerts are read from the issue API while a
    # console is open (requests made through this gateway are pushed at once).
    review_poll_seconds: float = Field(10.0, env="GATEWAY_REVIEW_POLL_SECONDS", gt=0)

    @validator("operators", pre=True)
    def _operators(cls, value: Any) -> Any:  # noqa: N805
        return parse_operators(value) if isinstance(value, str) else value

    @validator("issue_api_tokens", pre=True)
    def _issue_api_tokens(cls, value: Any) -> Any:  # noqa: N805
        return parse_issue_api_tokens(value) if isinstance(value, str) else value

    @validator("departments", pre=True)
    def _departments(cls, value: Any) -> Any:  # noqa: N805
        return parse_departments(value) if isinstance(value, str) else value

    @validator("departments")
    def _departments_have_tokens(cls, value: Dict[str, Tuple[bytes, str]], values: Dict[str, Any]) -> Any:  # noqa: N805
        tokens = values.get("issue_api_tokens") or {}
        for name, (_, department) in value.items():
            if f"{DEPARTMENT_PREFIX}{department}" not in tokens:
                raise ValueError(f"user {name!r} works for {department!r}, but ISSUE_API_TOKENS has no "
                                 f"{DEPARTMENT_PREFIX}{department}:TOKEN account for that department")
        return value

    @validator("cookie_secure_mode")
    def _cookie_secure_mode(cls, value: str) -> str:  # noqa: N805
        word = value.strip().lower()
        if word == "auto":
            return word
        if word in TRUE_WORDS | FALSE_WORDS:
            return "1" if word in TRUE_WORDS else "0"
        raise ValueError("must be auto, 1 or 0")

    @validator("rasa_url", "issue_api_url")
    def _no_trailing_slash(cls, value: str) -> str:  # noqa: N805
        return value.rstrip("/")

    @validator("log_level")
    def _level(cls, value: str) -> str:  # noqa: N805
        return value.lower()

    @root_validator(skip_on_failure=True)
    def _operator_token(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        """Without ISSUE_API_OPERATOR_TOKEN (or ISSUE_API_TOKEN), the operator account of ISSUE_API_TOKENS."""
        if not values.get("issue_api_token"):
            values["issue_api_token"] = (values.get("issue_api_tokens") or {}).get("operator", "")
        return values

    @root_validator(skip_on_failure=True)
    def _session_secret(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        """Without GATEWAY_SECRET login forms are signed with a random key: one opened before a
        restart must be reloaded (sessions themselves are in the database and survive). Gateways
        that share events must share the secret that signs them, so it cannot be made up."""
        if not values.get("secret") and values.get("events_url"):
            raise ValueError("GATEWAY_EVENTS_REDIS_URL needs GATEWAY_SECRET, the same on every gateway")
        if not values.get("secret"):
            values["secret"], values["secret_generated"] = secrets.token_urlsafe(32), True
        return values

    def department_token(self, department: str) -> str:
        """The issue API token of `department`'s own account (checked at start to exist)."""
        return self.issue_api_tokens[f"{DEPARTMENT_PREFIX}{department}"]

    @property
    def db_path(self) -> Path | str:
        """The SQLite file, or the database URL when several gateways share one."""
        return self.state_database(self.db_file, "gateway.db")

    @property
    def db_shared(self) -> bool:
        return isinstance(self.db_path, str)

    @property
    def cookie_secure(self) -> bool:
        """Whether the console's cookies carry `Secure` (sent back over HTTPS only)."""
        if self.cookie_secure_mode == "auto":
            return not is_loopback(self.host)
        return self.cookie_secure_mode == "1"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect, so no TLS proxy is assumed."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything
