"""Live issue API servers for the tests in this package, on SQLite and on PostgreSQL.

Every API test runs once per backend (`api` is parametrized). PostgreSQL tests create a fresh
database on 127.0.0.1:5432 per server and drop it afterwards; if PostgreSQL is not running they fail
with a message saying so instead of being skipped.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests

from tests.support.postgres import PostgresDatabases
from tests.support.servers import ServerProcess
from tests.support.stack import start_issue_api

TOKENS: Dict[str, str] = {
    "bot": "t-bot-7f3a",
    "operator": "t-operator-91c2",
    "department": "t-department-55d0",
    "admin": "t-admin-0b8e",
}
ROLES = tuple(TOKENS)
# The department account is one department's: the default one of ticket_body()'s category.
DEPARTMENT = "市政公用服务中心"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def random_mobile() -> str:
    return f"139{random.randrange(10**8):08d}"


def ticket_body(**overrides: Any) -> Dict[str, Any]:
    body = {
        "company": "西安某某电子科技有限公司",
        "contact_name": "王先生",
        "phone": random_mobile(),
        "category": "供水供电供气",
        "description": "园区三号楼今天上午停电,至今没有恢复,影响生产。",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


class Api:
    """A live server plus a requests session that knows the role tokens."""

    def __init__(self, server: ServerProcess, url: str, db_url: str, log_path: Path) -> None:
        self.server = server
        self.url = url
        self.db_url = db_url
        self.log_path = log_path
        self.http = requests.Session()
        self.codes: Dict[str, str] = {}  # query codes of the tickets this helper filed

    def call(self, method: str, path: str, role: Optional[str] = "operator", proof: bool = True,
             **kwargs: Any) -> requests.Response:
        """One request; as the bot, with the proof a real conversation would give (the query code of a
        ticket this helper filed, the caller id equal to a listed phone) unless `proof=False`."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None:
            headers.setdefault("Authorization", f"Bearer {TOKENS[role]}")
        if role == "bot" and proof:
            ticket_id = path.split("?")[0].split("/")[2] if path.startswith("/tickets/") else None
            if ticket_id in self.codes:
                headers.setdefault("X-Query-Code", self.codes[ticket_id])
            phone = (kwargs.get("params") or {}).get("phone") if isinstance(kwargs.get("params"), dict) else None
            if phone:
                headers.setdefault("X-Caller-Phone", phone)
        response = self.http.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs)
        if method == "POST" and path == "/tickets" and response.status_code == 201:
            created = response.json()
            if created.get("query_code"):
                self.codes[created["id"]] = created["query_code"]
        return response

    def file(self, role: str = "bot", **overrides: Any) -> Dict[str, Any]:
        response = self.call("POST", "/tickets", role=role, json=ticket_body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()

    def act(self, ticket_id: str, action: str, role: str = "operator", expect: int = 200, **body: Any) -> Dict[str, Any]:
        response = self.call("POST", f"/tickets/{ticket_id}/{action}", role=role, json=body)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, ticket_id: str, role: str = "operator") -> Dict[str, Any]:
        response = self.call("GET", f"/tickets/{ticket_id}", role=role)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases("issue_api_test")
    yield databases
    databases.drop_all()


def start_api(db_url: str, log_dir: Path, **env: str) -> Api:
    server, url, _ = start_issue_api(log_dir, db_url=db_url, tokens=TOKENS, extra_env=env)
    assert server.log_path is not None
    return Api(server, url, db_url, server.log_path)


@pytest.fixture(scope="session")
def new_database(pg_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """A fresh, empty database URL for the backend."""

    def make(backend: str) -> str:
        if backend == "postgresql":
            return pg_databases.create()
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'issues.db'}"

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def api(backend: str, new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One long-lived server per backend, shared by the API tests (they never rely on global counts)."""
    live = start_api(new_database(backend), tmp_path_factory.mktemp(f"logs_{backend}"))
    yield live
    live.server.stop()


@pytest.fixture
def fresh_api(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Start servers on a new empty database (extra env per call); all are stopped after the test."""
    started: List[Api] = []

    def make(db_url: Optional[str] = None, **env: str) -> Api:
        live = start_api(db_url or new_database(backend), tmp_path, **env)
        started.append(live)
        return live

    yield make
    for live in started:
        live.server.stop()
