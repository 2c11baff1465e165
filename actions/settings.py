"""Configuration of the action server, read once from the environment (contract.settings rules)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import Field, validator

from contract.settings import REPO_ROOT, HotlineSettings, repo_path


class Settings(HotlineSettings):
    """Everything the actions need to know about their surroundings."""

    issue_api_url: str = Field("http://127.0.0.1:8000", env="ISSUE_API_URL")
    # The bot role's token; ISSUE_API_TOKEN is the contract's name, ISSUE_API_BOT_TOKEN says the role.
    issue_api_token: str = Field("", env=["ISSUE_API_BOT_TOKEN", "ISSUE_API_TOKEN"], repr=False)
    request_timeout: float = Field(5.0, env="ISSUE_API_TIMEOUT", gt=0)
    max_attempts: int = Field(3, env="ISSUE_API_ATTEMPTS", ge=1)
    backoff: float = Field(0.3, env="ISSUE_API_BACKOFF", ge=0)
    # One issue-API call of a turn, retries included: a turn makes at most three (prove, act, read
    # back), and the voice channel gives the whole turn VOICE_BOT_TIMEOUT (15 s). A report that
    # could not be sent in time waits in the outbox and is delivered once the API answers again.
    call_budget: float = Field(4.0, env="ISSUE_API_CALL_BUDGET", gt=0)
    outbox_file: Optional[str] = Field(None, env="ACTIONS_OUTBOX_DB")  # a path (SQLite) or a database URL
    outbox_interval: float = Field(5.0, env="ACTIONS_OUTBOX_INTERVAL", gt=0)
    outbox_worker: bool = Field(True, env="ACTIONS_OUTBOX_WORKER")
    # A 催办 of a ticket urged less than this long ago is not sent again (0: every one is sent).
    urge_interval_minutes: float = Field(30.0, env="ACTIONS_URGE_INTERVAL_MINUTES", ge=0)
    categories_file: Path = Field(REPO_ROOT / "data" / "nlu" / "categories.yml", env="ACTIONS_CATEGORIES_FILE")
    thread_pool_size: int = Field(32, env="ACTIONS_THREADS", ge=1)
    # What the Rasa server must show (endpoints.yml `token:`); empty: only callers on this machine.
    server_token: str = Field("", env="ACTION_SERVER_TOKEN", repr=False)

    @validator("issue_api_url")
    def _no_trailing_slash(cls, value: str) -> str:  # noqa: N805
        return value.rstrip("/")

    @validator("categories_file")
    def _from_repo_root(cls, value: Path) -> Path:  # noqa: N805
        return repo_path(value)

    @property
    def outbox_db(self) -> str | Path:
        """A database URL as given (PostgreSQL, shared by several action servers), else an SQLite file."""
        return self.state_database(self.outbox_file, "outbox.db")
