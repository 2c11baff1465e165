"""Kill the server hard (no clean shutdown), start it again on the same database: nothing is lost."""
from __future__ import annotations

from tests.issue_api.conftest import random_mobile


def test_everything_survives_a_hard_kill(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    db_url = new_database(backend)
    first = fresh_api(db_url)
    phone = random_mobile()
    tickets = [first.file(phone=phone) for _ in range(5)]
    first.act(tickets[0]["id"], "urge", role="bot")
    first.act(tickets[1]["id"], "supplements", role="bot", text="补充:影响三十户企业")
    first.act(tickets[2]["id"], "assign", department="生态环境局")
    first.act(tickets[2]["id"], "resolve", result="已处理")
    first.act(tickets[2]["id"], "rating", score=2)
    first.act(tickets[3]["id"], "cancel", reason="重复")
    before = {t["id"]: first.get(t["id"]) for t in tickets}
    first.server.kill()

    second = fresh_api(db_url)
    after = {t["id"]: second.get(t["id"]) for t in tickets}
    assert after == before
    # The id sequence carries on after the restart instead of starting again at 0001.
    newer = second.file(phone=phone)
    assert int(newer["id"]) > max(int(t["id"]) for t in tickets)
    assert len(second.call("GET", "/tickets", params={"phone": phone}).json()["items"]) == 6
