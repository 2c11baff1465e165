"""Finding 2: the lookup by phone trusted whatever number the user typed; the bot offered the
beginning of another company's report for a number typed in chat. Now only the phone line's caller
id lists tickets by phone, and the issue API refuses the bot a list it has no caller id for."""
from __future__ import annotations

import uuid

import pytest
import requests

pytestmark = pytest.mark.slow

VICTIM = {"company": "西安邻居电子有限公司", "contact_name": "钱进", "phone": "13912340002",
          "category": "供水供电供气", "description": "厂区停电影响流水线"}


def test_a_number_typed_in_the_chat_lists_nothing(rasa_server, issue_api) -> None:
    operator = {"Authorization": f"Bearer {issue_api.tokens['operator']}"}
    requests.post(f"{issue_api.url}/api/v1/tickets", json=VICTIM, headers=operator, timeout=10).raise_for_status()
    sender = f"web-{uuid.uuid4().hex}"
    for text in (f"我的电话是{VICTIM['phone']}", "帮我查一下我的工单", "帮我催一下"):
        body = {"sender": sender, "message": text, "metadata": {"channel": "web"}}
        said = "\n".join(m.get("text") or "" for m in requests.post(
            f"{rasa_server.url}/webhooks/rest/webhook", json=body, timeout=60).json())
        assert "厂区停电" not in said and "是这一件吗" not in said and "查到" not in said, said


def test_the_issue_api_lists_by_phone_only_for_that_caller_id(issue_api) -> None:
    bot = {"Authorization": f"Bearer {issue_api.tokens['bot']}"}
    url = f"{issue_api.url}/api/v1/tickets"
    assert requests.get(url, params={"phone": VICTIM["phone"]}, headers=bot, timeout=10).status_code == 403
    other_line = {**bot, "X-Caller-Phone": "13900001111"}
    assert requests.get(url, params={"phone": VICTIM["phone"]}, headers=other_line, timeout=10).status_code == 403
    own_line = {**bot, "X-Caller-Phone": VICTIM["phone"]}
    items = requests.get(url, params={"phone": VICTIM["phone"]}, headers=own_line, timeout=10).json()["items"]
    assert items and all(item["phone"] == "139****0002" for item in items)
