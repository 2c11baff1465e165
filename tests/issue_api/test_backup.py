"""Backups of the issue API's data, taken while it serves, and restored: on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.issue_api.conftest import BACKENDS, TOKENS, random_mobile, start_api
from tests.support.servers import REPO_ROOT


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ISSUE_API_DB": db_url, "ISSUE_API_TOKENS": ",".join(f"{r}:{t}" for r, t in TOKENS.items()
                                                                              if r != "department")}
    return subprocess.run([sys.executable, "-m", "issue_api", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_taken_while_serving_restores_exactly_what_it_held(backend: str, new_database, tmp_path: Path) -> None:
    db_url = new_database(backend)
    api = start_api(db_url, tmp_path / "before")
    phone = random_mobile()
    kept = [api.file(phone=phone)["id"] for _ in range(2)]
    backup = tmp_path / "backups" / "issue_api.backup"
    made = _cli(db_url, "backup", "--to", str(backup))
    assert made.returncode == 0, made.stderr
    assert backup.is_file() and oct(backup.stat().st_mode & 0o777) == "0o600"
    later = api.file(phone=phone)["id"]  # filed after the backup
    api.server.stop()

    restored = _cli(db_url, "restore", "--from", str(backup))
    assert restored.returncode == 0, restored.stderr
    api = start_api(db_url, tmp_path / "after")
    try:
        ids = [t["id"] for t in api.call("GET", "/tickets", params={"phone": phone}).json()["items"]]
        assert sorted(ids) == sorted(kept) and later not in ids
        assert api.get(kept[0])["history"][0]["action"] == "filed"
        again = api.file(phone=phone)["id"]  # the daily numbering goes on without a clash
        assert again not in kept
    finally:
        api.server.stop()


def test_a_damaged_or_foreign_file_is_refused(tmp_path: Path, new_database) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database")
    result = _cli(new_database("sqlite"), "restore", "--from", str(junk))
    assert result.returncode == 1 and "not an SQLite database" in result.stderr and "Traceback" not in result.stderr
    missing = _cli(new_database("sqlite"), "restore", "--from", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "no backup file" in missing.stderr
