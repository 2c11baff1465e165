"""A no outside any question: goodbye when the caller is done, never when they said what they want."""
from __future__ import annotations

import pytest

from tests.actions.webhook import responses, run_action


def followups(result: dict) -> list[str]:
    return [e["name"] for e in result["events"] if e.get("event") == "followup"]


@pytest.mark.parametrize("said", ["不用了", "没有了，谢谢", "不需要了 再见", "没有", "不了谢谢你", "不用了，没问题了",
                                  "不用，没有问题", "不用了，我不投诉了", "不用了，没有要登记的", "不用了谢谢你们的帮助",
                                  "没有了，问题解决了", "不用了，路灯已经修好了", "不用了，我先挂了", "不用了，我知道了",
                                  "没有了，就这些", "没有了，你们效率挺高的"])
def test_a_plain_no_after_anything_else_ends_the_conversation(action_server, said):
    result = run_action(action_server.url, "action_no_more_needs", text=said, intent="deny")
    assert responses(result) == ["utter_goodbye"] and followups(result) == []


@pytest.mark.parametrize("said", ["不是，我是要反映问题", "刚才不是说了吗，路灯坏了", "不对 我们园区停电了一上午"])
def test_a_no_that_says_what_the_caller_wants_starts_the_filing(action_server, said):
    result = run_action(action_server.url, "action_no_more_needs", text=said, intent="deny")
    assert followups(result) == ["ticket_form"] and "utter_goodbye" not in responses(result)


@pytest.mark.parametrize("said", ["不，我很不满意", "不是很好，问题还没解决"])
def test_an_unhappy_no_is_not_seen_off(action_server, said):
    result = run_action(action_server.url, "action_no_more_needs", text=said, intent="deny")
    assert "utter_goodbye" not in responses(result)


def test_a_no_with_something_else_after_it_is_asked_about(action_server):
    result = run_action(action_server.url, "action_no_more_needs", text="不是，我想问点别的事情", intent="deny")
    assert responses(result) == ["utter_how_can_i_help"]


@pytest.mark.parametrize("said", ["我是西安供电设备有限公司的张伟", "我是西安星辰网络科技有限公司的王五", "电费怎么交？"])
def test_an_introduction_or_a_question_is_no_report(action_server, said):
    routed = run_action(action_server.url, "action_route_detail", text=said, intent="inform")
    assert followups(routed) == [] and responses(routed) == ["utter_how_can_i_help"]


def test_a_whole_report_taken_for_a_detail_starts_the_filing_with_all_of_it(action_server):
    said = "我是西安启明星电子有限公司的孙丽，电话13812345678，三号楼前面的路灯全不亮了"
    routed = run_action(action_server.url, "action_route_detail", text=said, intent="inform")
    assert followups(routed) == ["ticket_form"]
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="inform",
                        entities=[{"entity": "company", "value": "西安启明星电子有限公司"},
                                  {"entity": "person", "value": "孙丽"}])
    slots = {e["name"]: e["value"] for e in opened["events"] if e.get("event") == "slot"}
    assert slots["description"] == said and slots["category"] == "市政设施"
    assert (slots["company"], slots["contact_name"], slots["phone"]) == ("西安启明星电子有限公司", "孙丽", "13812345678")
    # A detail with no problem in it is still asked about.
    assert responses(run_action(action_server.url, "action_route_detail", text="我姓张", intent="inform")) == [
        "utter_how_can_i_help"]
