"""Alembic migrations: they build exactly the tables the code uses, and upgrade older databases."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from issue_api.db import MIGRATIONS_DIR, Database
from issue_api.models import metadata


def _config(conn) -> Config:  # type: ignore[no-untyped-def]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_migrated_schema_matches_the_models(backend: str, new_database) -> None:  # type: ignore[no-untyped-def]
    db = Database(new_database(backend))
    try:
        db.upgrade_schema()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
            assert differences == []
            head = sorted(p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))[-1]
            assert MigrationContext.configure(conn).get_current_revision() == head
        db.upgrade_schema()  # running it again at start-up is harmless
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_keeps_tickets_filed_under_the_first_schema(backend: str, new_database) -> None:  # type: ignore[no-untyped-def]
    db = Database(new_database(backend))
    try:
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0001")
            conn.execute(text(
                "INSERT INTO tickets (id, status, kind, category, company, contact_name, phone, description, channel,"
                " department, created_at, created_day, updated_at, deadline, urge_count, rework_count) VALUES"
                " ('2611270001', 'received', 'help', '其他', 'c', 'n', '13812345678', 'd', 'api', '企业服务中心',"
                " '2026-11-27 01:00:00', '2026-11-27', '2026-11-27 01:00:00', '2026-12-04 15:59:59', 0, 0)"))
        db.upgrade_schema()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM tickets")).scalar_one() == "2611270001"
            names = {index["name"] for index in inspect(conn).get_indexes("tickets")}
            assert "ix_tickets_status_created" in names and "ix_tickets_created_day" not in names
    finally:
        db.dispose()


def _insert_ticket_0003(conn, ticket_id: str, status: str, resolved_at=None, rating=None,  # type: ignore[no-untyped-def]
                        channel: str = "voice", deadline: str = "2026-12-04 15:59:59") -> None:
    conn.execute(text(
        "INSERT INTO tickets (id, status, kind, category, company, contact_name, phone, description, channel,"
        " department, created_at, created_day, updated_at, deadline, resolved_at, result, urge_count, rework_count,"
        " rating_score, query_code_hash) VALUES (:id, :status, 'help', '供水供电供气', '西安某某公司', '王先生',"
        " '13812345678', '停电', :channel, '市政公用服务中心', '2026-11-27 02:00:00', '2026-11-27',"
        " '2026-11-27 02:00:00', :deadline, :resolved_at, :result, 0, 0, :rating, NULL)"),
        {"id": ticket_id, "status": status, "channel": channel, "deadline": deadline, "resolved_at": resolved_at,
         "result": "已恢复供电" if resolved_at else None, "rating": rating})
    conn.execute(text("INSERT INTO ticket_events (ticket_id, at, action, role, note, actor) VALUES"
                      " (:id, '2026-11-27 02:00:00', 'filed', 'bot', NULL, 'bot')"), {"id": ticket_id})


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_from_0003_keeps_the_data_and_owes_a_callback_to_resolved_tickets(  # type: ignore[no-untyped-def]
        backend: str, new_database, tmp_path) -> None:
    from tests.issue_api.conftest import start_api

    db_url = new_database(backend)
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "0003")
            _insert_ticket_0003(conn, "2611270001", "received")
            _insert_ticket_0003(conn, "2611270002", "resolved", resolved_at="2026-11-30 03:00:00", channel="web")
            _insert_ticket_0003(conn, "2611270003", "closed", resolved_at="2026-11-30 03:00:00", rating=5)
    finally:
        db.dispose()

    # The service upgrades at start; Tuesday 1 December 10:00 is inside the callback hours.
    api = start_api(db_url, tmp_path, ISSUE_API_NOW="2026-12-01T10:00:00+08:00")
    try:
        assert [t["id"] for t in api.call("GET", "/tickets", params={"phone": "13812345678"}).json()["items"]] == [
            "2611270003", "2611270002", "2611270001"]
        owed = api.call("GET", "/callbacks").json()["items"]
        assert [(c["ticket_id"], c["status"], c["channel"], c["attempts"]) for c in owed] == [
            ("2611270002", "pending", "web", 0)]
        assert owed[0]["next_attempt_at"] == "2026-11-30T11:00:00+08:00"  # due since its resolution
        assert [c["ticket_id"] for c in api.call("GET", "/callbacks", params={"due": "true"}).json()["items"]] == [
            "2611270002"]
        # History actions longer than the old 16 characters are stored (PostgreSQL checks the length).
        api.act("2611270001", "assign", department="市政公用服务中心")
        asked = api.act("2611270001", "extension-requests", role="department", reason="需要协调供电公司",
                        new_deadline="2026-12-11")
        assert [e["action"] for e in asked["history"]] == ["filed", "assigned", "extension_requested"]
        assert asked["pending_review"]["type"] == "extension"
        rated = api.act("2611270002", "rating", score=4)
        assert [e["action"] for e in rated["history"]][-3:] == ["rated", "callback_done", "closed"]
    finally:
        api.server.stop()
