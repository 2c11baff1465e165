"""When PostgreSQL goes away under a running service, clients get 503 (retry later), not a 500."""
from __future__ import annotations

import psycopg2
import pytest

from tests.support.postgres import PG_ADMIN_DSN


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_lost_database_is_503_and_health_says_so(fresh_api, backend: str) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    db_url = api.db_url
    ticket = api.file()
    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE "{db_url.rsplit("/", 1)[1]}" WITH (FORCE)')
    conn.close()

    response = api.call("GET", f"/tickets/{ticket['id']}")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert api.call("POST", "/tickets", role="bot", json={"company": "c"}).status_code == 422  # input is still checked
    assert api.call("GET", "/health", role=None).status_code == 503
    assert "database unavailable" in api.log_path.read_text(encoding="utf-8")
