"""A report queued during an outage was promised to the caller: the API refusing it at delivery does
not lose it."""
from __future__ import annotations

import uuid
from pathlib import Path

import requests

from actions.deliverer import Deliverer
from actions.outbox import Outbox
from contract.issue_client import IssueClient


def test_a_queued_report_too_long_for_the_api_is_filed_cut_to_fit(issue_api, tmp_path: Path) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    phone = "13755557777"
    long_place = "高新区" + "锦业路" * 100  # 303 characters: more than the 200 the API keeps
    report = {"company": "西安过长地址有限公司", "contact_name": "钱", "phone": phone, "category": "市政设施",
              "description": "园区门口路灯不亮", "kind": "help", "channel": "voice", "location": long_place}
    key = f"rasa-{uuid.uuid4().hex}"
    outbox.add(key, report)
    client = IssueClient(issue_api.url, issue_api.tokens["bot"], max_attempts=1)
    assert Deliverer(outbox, client, interval=60).deliver_due() == 1
    listed = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": phone},
                          headers={"Authorization": f"Bearer {issue_api.tokens['operator']}"}, timeout=10).json()["items"]
    assert len(listed) == 1 and listed[0]["location"].startswith("高新区锦业路") and len(listed[0]["location"]) == 200
    assert outbox.get(key).status == "delivered"
    assert Deliverer(outbox, client, interval=60).deliver_due() == 0  # and once only
    outbox.close()


def test_what_cannot_be_fitted_waits_for_a_person(issue_api, tmp_path: Path) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    key = f"rasa-{uuid.uuid4().hex}"
    outbox.add(key, {"company": "西安某公司", "contact_name": "孙", "phone": "12345", "category": "其他",
                     "description": "电话号码不对的报告", "kind": "help", "channel": "web"})
    client = IssueClient(issue_api.url, issue_api.tokens["bot"], max_attempts=1)
    assert Deliverer(outbox, client, interval=60).deliver_due() == 0
    assert outbox.get(key).status == "failed"
    outbox.close()


class _RefusesThenDown:
    """The API refuses the report as it was, then is down when it is sent cut to fit."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def create_ticket(self, payload: dict, key: str) -> dict:
        from contract.issue_client import ApiUnavailable, Invalid

        self.sent.append(payload)
        if len(self.sent) == 1:
            raise Invalid(422, "validation_failed", "提交的信息有误", [{"field": "location"}])
        raise ApiUnavailable(None, "unavailable", "down")


def test_an_outage_while_a_report_is_sent_cut_to_fit_leaves_it_waiting(tmp_path: Path) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.db'}")
    key = f"rasa-{uuid.uuid4().hex}"
    outbox.add(key, {"company": "西安某公司", "contact_name": "孙", "phone": "13755558888", "category": "市政设施",
                     "description": "路灯不亮", "kind": "help", "channel": "voice", "location": "路" * 300})
    client = _RefusesThenDown()
    assert Deliverer(outbox, client, interval=60).deliver_due() == 0  # type: ignore[arg-type]
    assert outbox.get(key).status == "pending" and len(client.sent) == 2  # sent again next round, not given up
    outbox.close()
