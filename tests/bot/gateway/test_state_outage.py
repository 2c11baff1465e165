"""The gateway's database goes away for a while (PostgreSQL restarting, a network cut): requests that
need it get a 503 with a structured error and a Retry-After, not a 500 and a traceback; connections
the server dropped are replaced without anyone noticing; when the database is back, the console
works again without restarting the gateway."""
from __future__ import annotations

from typing import Callable

import pytest
import requests

from tests.bot.gateway.conftest import Gateway, login
from tests.support.postgres import admin_connection, database_url, fresh_database

pytestmark = pytest.mark.postgres


def _terminate(cur, name: str) -> None:  # type: ignore[no-untyped-def]
    cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,))


def test_console_rides_out_the_database_going_away_and_coming_back(start_gateway: Callable[..., Gateway]) -> None:
    with fresh_database("gateway_outage") as name:
        gateway = start_gateway(GATEWAY_DB=database_url(name))
        session, _ = login(gateway.url, "alice")
        queue = f"{gateway.url}/api/v1/console/queue"
        assert session.get(queue, timeout=10).status_code == 200

        admin = admin_connection()
        with admin.cursor() as cur:
            _terminate(cur, name)  # what a PostgreSQL restart does to every open connection
        assert session.get(queue, timeout=10).status_code == 200, "dropped connections are replaced"

        with admin.cursor() as cur:
            _terminate(cur, name)
            cur.execute(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
        try:
            down = session.get(queue, timeout=20)
            assert down.status_code == 503
            assert down.headers["Retry-After"] == "5"
            assert down.json() == {"detail": "系统正在恢复，请稍后再试", "code": "state_unavailable"}
        finally:
            with admin.cursor() as cur:
                _terminate(cur, f"{name}_away")
                cur.execute(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
            admin.close()

        assert session.get(queue, timeout=10).status_code == 200, "the same session works once the database is back"
        assert "Traceback" not in gateway.log.read_text(encoding="utf-8")
        assert requests.get(f"{gateway.url}/api/v1/health", timeout=5).status_code == 200
