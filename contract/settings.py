"""One typed way to read a process's settings from the environment (pydantic's BaseSettings).

Each process declares its fields on a subclass of `HotlineSettings`, each with the environment
variable(s) it is read from (`Field(..., env="GATEWAY_PORT")`; a list means aliases, the first
non-empty one wins). The rules are the same everywhere:

- an empty or blank variable means "use the default", like an unset one;
- booleans are 1/0, true/false, on/off or yes/no; anything else stops start-up;
- any value that cannot be read stops start-up with a message naming the variable;
- state files live under one directory, HOTLINE_VAR_DIR (default `var/` at the repository root),
  and relative paths are taken from the repository root, never from the working directory, so
  that two processes started from different places share (or do not share) state on purpose.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Type, TypeVar

from pydantic import BaseSettings, Field, ValidationError, validator
from pydantic.fields import ModelField

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VAR_DIR = REPO_ROOT / "var"
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})

S = TypeVar("S", bound="HotlineSettings")


class SettingsError(ValueError):
    """A configuration value cannot be used; the message names the variable and what is wrong."""


def repo_path(value: Path | str) -> Path:
    """A path from configuration: relative ones are relative to the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def env_names(field: ModelField) -> List[str]:
    names = field.field_info.extra.get("env") or []
    return [names] if isinstance(names, str) else list(names)


class HotlineSettings(BaseSettings):
    """Base of every process's settings: see the module docstring for the rules."""

    var_dir: Path = Field(DEFAULT_VAR_DIR, env="HOTLINE_VAR_DIR",
                          description="where every state file (SQLite databases, outbox, overlays) lives")

    class Config:
        case_sensitive = True
        extra = "forbid"

        @classmethod
        def customise_sources(cls, init_settings: Any, env_settings: Any, file_secret_settings: Any) -> tuple:
            return (init_settings,)  # from_env reads the environment itself (empty = default)

    @validator("*", pre=True)
    def _strict_flags(cls, value: Any, field: ModelField) -> Any:  # noqa: N805 - pydantic validators take cls
        if field.outer_type_ is bool and isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError("must be one of 1/0, true/false, on/off, yes/no")
        return value

    @validator("var_dir")
    def _var_dir_from_repo_root(cls, value: Path) -> Path:  # noqa: N805
        return repo_path(value)

    def secure_state_dir(self) -> Path:
        """The state directory, private to this user (0700), its files 0600, and this process
        creating files that way from now on: conversations, tickets and phone numbers live there."""
        os.umask(0o077)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.var_dir.chmod(0o700)
        for path in self.var_dir.iterdir():
            if path.is_file() and not path.is_symlink():
                path.chmod(0o600)
        return self.var_dir

    def state_file(self, configured: Optional[Path | str], default_name: str) -> Path:
        """A state file: the configured path (relative to the repository root), or `default_name`
        in the state directory."""
        return repo_path(configured) if configured else self.var_dir / default_name

    def state_database(self, configured: Optional[Path | str], default_name: str) -> Path | str:
        """A database several processes may share: a URL as given (PostgreSQL), else an SQLite file
        as `state_file` finds it."""
        if configured and "://" in str(configured):
            return str(configured)
        return self.state_file(configured, default_name)

    @classmethod
    def from_env(cls: Type[S], env: Optional[Mapping[str, str]] = None, **overrides: Any) -> S:
        """Read every field from `env` (the process environment by default); `overrides` win
        (command-line flags). Raises SettingsError naming the variable that is wrong."""
        env = os.environ if env is None else env
        values: Dict[str, Any] = {}
        sources: Dict[str, str] = {}
        for name, field in cls.__fields__.items():
            for env_name in env_names(field):
                raw = env.get(env_name)
                if raw is not None and raw.strip():
                    values[name], sources[name] = raw.strip(), env_name
                    break
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
                sources.pop(name, None)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsError(_describe(cls, exc, sources, values)) from None


def _describe(cls: Type[HotlineSettings], exc: ValidationError, sources: Dict[str, str],
              values: Dict[str, Any]) -> str:
    """'GATEWAY_PORT: 'abc' value is not a valid integer'; secrets (fields with repr=False) are
    named but never shown."""
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error.get("loc") else "?"
        field = cls.__fields__.get(name)
        names = env_names(field) if field is not None else []
        variable = sources.get(name) or (names[0] if names else name)
        secret = field is not None and field.field_info.repr is False
        shown = "" if secret or name not in values else f"{values[name]!r} "
        message = "is not set" if error["type"] == "value_error.missing" else error["msg"]
        problems.append(f"{variable}: {shown}{message}")
    return "; ".join(problems)


def load_or_exit(cls: Type[S], program: str, **overrides: Any) -> S:
    """Settings for a command-line entry point: a bad value prints what to fix and exits 2."""
    import sys

    try:
        return cls.from_env(**overrides)
    except SettingsError as exc:
        print(f"{program}: bad configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
