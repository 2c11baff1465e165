"""Configuration of the action server, read once from the environment (documented defaults)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """Everything the actions need to know about their surroundings."""

    issue_api_url: str
    issue_api_token: str
    request_timeout: float
    max_attempts: int
    backoff: float
    outbox_db: Path
    outbox_interval: float
    outbox_worker: bool
    categories_file: Path
    thread_pool_size: int

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            issue_api_url=env.get("ISSUE_API_URL", "http://127.0.0.1:8000").rstrip("/"),
            issue_api_token=env.get("ISSUE_API_TOKEN", ""),
            request_timeout=float(env.get("ISSUE_API_TIMEOUT", "5")),
            max_attempts=int(env.get("ISSUE_API_ATTEMPTS", "3")),
            backoff=float(env.get("ISSUE_API_BACKOFF", "0.3")),
            outbox_db=Path(env.get("ACTIONS_OUTBOX_DB", str(REPO_ROOT / "var" / "outbox.db"))),
            outbox_interval=float(env.get("ACTIONS_OUTBOX_INTERVAL", "5")),
            outbox_worker=env.get("ACTIONS_OUTBOX_WORKER", "1") not in ("0", "false", "no"),
            categories_file=Path(
                env.get("ACTIONS_CATEGORIES_FILE", str(REPO_ROOT / "data" / "nlu" / "categories.yml"))
            ),
            thread_pool_size=int(env.get("ACTIONS_THREADS", "32")),
        )
