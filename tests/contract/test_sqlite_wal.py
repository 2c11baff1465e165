"""Every SQLite store switches its file to WAL, also when another process holds the file at that moment."""
from __future__ import annotations

import sqlite3
import threading
import time

from contract.sqlite_wal import enable_wal


def test_a_new_database_is_switched_to_wal(tmp_path) -> None:
    connection = sqlite3.connect(tmp_path / "a.db")
    enable_wal(connection)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    enable_wal(connection.cursor())  # already WAL: nothing to do
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_switch_waits_for_another_process_that_holds_the_file(tmp_path) -> None:
    path = tmp_path / "b.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # another worker in the middle of its first write
    opener = sqlite3.connect(path, timeout=0, check_same_thread=False)  # "locked" at once, no busy wait
    released = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    released.start()
    started = time.monotonic()
    enable_wal(opener)
    released.join()
    assert time.monotonic() - started >= 0.25  # it waited for the holder instead of failing
    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
