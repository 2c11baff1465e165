"""Backing up and restoring the issue API's data: `python -m issue_api backup --to FILE` and
`python -m issue_api restore --from FILE`.

SQLite: SQLite's online backup (a consistent copy while the service keeps running), checked with
`PRAGMA integrity_check`; restore checks the file the same way, then replaces the database file
atomically (stop the issue API first: a running service keeps the old file open). PostgreSQL:
`pg_dump --format=custom` while the service runs, `pg_restore --clean` into the (emptied) database.
After a restore the schema is brought to the newest migration, so a backup from an older version
comes back usable.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from . import settings as settings_module
from .db import Database


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says what to do."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def _pg_dsn(url: URL) -> str:
    """libpq connection string for pg_dump / pg_restore (password via the environment, not argv)."""
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _check_sqlite(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database ({exc})") from None
    if result != "ok":
        raise BackupError(f"{path} is damaged: {result}")
    if not {"tickets", "alembic_version"} <= tables:
        raise BackupError(f"{path} is not an issue API database (no tickets table)")


def backup(db_url: str, target: Path) -> Path:
    url = make_url(db_url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        partial = target.with_name(target.name + ".partial")
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)
        os.chmod(partial, 0o600)
        _check_sqlite(partial)
        partial.replace(target)
        return target
    if url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _pg_dsn(url)], url)
        os.chmod(target, 0o600)
        return target
    raise BackupError(f"no backup for {url.get_backend_name()} databases")


def restore(db_url: str, source: Path) -> None:
    url = make_url(db_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if url.get_backend_name() == "sqlite":
        _check_sqlite(source)
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=target.name, delete=False) as tmp:
            staged = Path(tmp.name)
        shutil.copyfile(source, staged)
        os.chmod(staged, 0o600)
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)  # the old file's log must not be replayed onto the new one
        staged.replace(target)
    elif url.get_backend_name() == "postgresql":
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_pg_dsn(url)}", str(source)], url)
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
    database = Database(db_url)
    try:
        database.upgrade_schema()
    finally:
        database.dispose()


def _run(command: list[str], url: URL) -> None:
    try:
        result = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client (postgresql-client)") from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-500:]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m issue_api", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="copy the database (ISSUE_API_DB) to a file, online")
    make.add_argument("--to", type=Path, required=True, metavar="FILE")
    back = sub.add_parser("restore", help="replace the database (ISSUE_API_DB) with a backup; stop the API first")
    back.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        settings = settings_module.from_env()
    except settings_module.SettingsError as exc:
        print(f"issue_api: bad configuration: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "backup":
            written = backup(settings.db_url, args.to)
            print(f"backed up {make_url(settings.db_url).render_as_string(hide_password=True)} to {written}")
        else:
            restore(settings.db_url, args.source)
            print(f"restored {make_url(settings.db_url).render_as_string(hide_password=True)} from {args.source}")
    except BackupError as exc:
        print(f"issue_api {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0
