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
