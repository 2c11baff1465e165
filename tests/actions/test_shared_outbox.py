"""Several action servers share one outbox in PostgreSQL: deliverers claim rows with SKIP LOCKED, so
every submission is sent by one of them and filed exactly once."""
from __future__ import annotations

import threading
import uuid
from typing import Iterator

import pytest
import requests

from actions.deliverer import Deliverer
from actions.outbox import Outbox
from contract.issue_client import IssueClient
from tests.support.postgres import database_url, fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture()
def shared_url() -> Iterator[str]:
    with fresh_database("outbox_test") as name:
        yield database_url(name)


def test_two_deliverers_claim_disjoint_rows(shared_url: str) -> None:
    first, second = Outbox(shared_url), Outbox(shared_url)
    for i in range(40):
        first.add(f"key-{i}", {"n": i})
    claimed: list[list[str]] = [[], []]

    def claim(index: int, outbox: Outbox) -> None:
        while batch := outbox.claim_due(limit=3):
            claimed[index] += [entry.idempotency_key for entry in batch]

    threads = [threading.Thread(target=claim, args=(i, o)) for i, o in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed[0] + claimed[1]) == sorted(f"key-{i}" for i in range(40))
    assert not set(claimed[0]) & set(claimed[1])
    assert claimed[0] and claimed[1]  # both took part
    first.close()
    second.close()


def test_two_action_servers_deliver_a_shared_backlog_exactly_once(shared_url: str, issue_api) -> None:
    phone = "13755550000"
    body = {"company": "西安共享测试有限公司", "contact_name": "赵", "phone": phone, "category": "其他",
            "description": "积压的报告", "kind": "help", "channel": "web"}
    writer = Outbox(shared_url)
    keys = [f"shared-{uuid.uuid4().hex}" for _ in range(12)]
    for key in keys:
        writer.add(key, {**body, "description": f"积压的报告 {key[-6:]}"})
    client = IssueClient(issue_api.url, issue_api.tokens["bot"], max_attempts=1)
    deliverers = [Deliverer(Outbox(shared_url), client, interval=0.05) for _ in range(2)]
    threads = [threading.Thread(target=lambda d=d: [d.deliver_due() for _ in range(8)]) for d in deliverers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    items = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": phone, "limit": 200},
                         headers=operator, timeout=10).json()["items"]
    mine = [t for t in items if t["description"].startswith("积压的报告 ")]
    assert sorted(t["description"] for t in mine) == sorted(f"积压的报告 {k[-6:]}" for k in keys)
    assert all(writer.get(key).status == "delivered" for key in keys)
