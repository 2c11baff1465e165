"""The follow-up form's questions (ticket number, query code) never trap a caller who cannot or will
not answer them: thanks, "记不清了", or a second answer that is no number end the follow-up."""
from __future__ import annotations

from typing import Any

import pytest

from tests.actions.webhook import responses, run_action, slot_events


def bot(response: str) -> dict[str, Any]:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def answer(action_server, text: str, asked: str, history: tuple = (), intent: str = "inform") -> dict:
    return run_action(action_server.url, "validate_followup_form", text=text, intent=intent, history=history,
                      slots={"followup_op": "check", "requested_slot": asked, "ticket_id": "2612010005"
                             if asked == "query_code" else None})


@pytest.mark.parametrize("said, intent", [("好的谢谢", "thank"), ("好的", "affirm"), ("编号我记不清了", "inform"),
                                          ("谢谢你", "thank")])
def test_a_caller_without_a_number_is_not_asked_for_it_again(action_server, said, intent):
    result = answer(action_server, said, "ticket_id", intent=intent)
    assert responses(result) == ["utter_no_ticket_id"] and slot_events(result)["followup_op"] == "stopped"


def test_a_second_answer_without_a_number_ends_the_question(action_server):
    first = answer(action_server, "西安飞翔网络科技有限公司", "ticket_id", history=(bot("utter_ask_ticket_id"),))
    assert responses(first) == ["utter_ticket_id_not_understood"]
    second = answer(action_server, "就是我们公司那个", "ticket_id",
                    history=(bot("utter_ticket_id_not_understood"), bot("utter_ask_ticket_id")))
    assert responses(second) == ["utter_no_ticket_id"] and slot_events(second)["followup_op"] == "stopped"


@pytest.mark.parametrize("said", ["嗯", "呃", "那个", "喂？"])
def test_a_filler_is_asked_again_not_taken_for_giving_up(action_server, said):
    result = answer(action_server, said, "ticket_id", history=(bot("utter_ask_ticket_id"),))
    assert responses(result) == ["utter_ticket_id_not_understood"]


@pytest.mark.parametrize("said", ["我找不到了", "我找了半天没找到", "等一下我忘了"])
def test_a_caller_who_cannot_find_the_number_is_not_told_to_take_their_time(action_server, said):
    result = answer(action_server, said, "ticket_id", history=(bot("utter_ask_ticket_id"),))
    assert responses(result) == ["utter_no_ticket_id"]


def test_a_caller_looking_for_the_number_is_given_time(action_server):
    looking = answer(action_server, "稍等我找一下", "ticket_id", history=(bot("utter_ask_ticket_id"),))
    assert responses(looking) == ["utter_take_your_time"] and slot_events(looking)["requested_slot"] == "ticket_id"
    # "找到了" without the number is then the first miss, not the second.
    found = answer(action_server, "找到了", "ticket_id", history=(bot("utter_take_your_time"), bot("utter_ask_ticket_id")))
    assert responses(found) == ["utter_ticket_id_not_understood"]
    # Time is given once: looking again counts as a miss.
    again = answer(action_server, "再等一下", "ticket_id", history=(bot("utter_take_your_time"), bot("utter_ask_ticket_id")))
    assert responses(again) == ["utter_ticket_id_not_understood"]


def test_a_second_answer_without_a_code_ends_the_question(action_server):
    first = answer(action_server, "我是他同事", "query_code", history=(bot("utter_ask_query_code"),))
    assert responses(first)[0] == "utter_query_code_not_understood"
    second = answer(action_server, "OK", "query_code",
                    history=(bot("utter_query_code_not_understood"), bot("utter_ask_query_code")))
    assert responses(second)[0] == "utter_no_query_code" and slot_events(second)["followup_op"] == "stopped"


def rating_answer(action_server, text: str, asked: str, intent: str = "inform", **slots: Any) -> dict:
    return run_action(action_server.url, "validate_followup_form", text=text, intent=intent,
                      slots={"followup_op": "rate", "ticket_id": "2612010005", "ticket_proved": True,
                             "requested_slot": asked, **slots})


def test_a_low_score_is_read_back_before_it_sends_the_ticket_back(action_server):
    low = slot_events(rating_answer(action_server, "不满意", "rating"))
    assert low["rating"] == 2 and low["requested_slot"] == "rating_confirmed"
    fine = slot_events(rating_answer(action_server, "满意", "rating"))
    assert fine["rating"] == 4 and fine["requested_slot"] is None  # nothing to undo: no question


@pytest.mark.parametrize("said, intent, rating, confirmed, asked", [
    ("是的", "affirm", 2, True, None),  # it stands
    ("可以", "affirm", 2, True, None),  # a yes, not the 4 that "可以" is as a rating
    ("对，不满意", "affirm", 2, True, None),
    ("不对", "deny", None, None, "rating"),  # asked again
    ("不是，我是说四分", "deny", 4, None, None),  # another score, which needs no confirmation
])
def test_the_read_back_of_a_low_score(action_server, said, intent, rating, confirmed, asked):
    slots = slot_events(rating_answer(action_server, said, "rating_confirmed", intent=intent, rating=2))
    assert slots.get("rating", 2) == rating and slots.get("rating_confirmed") == confirmed
    assert slots["requested_slot"] == asked


def test_a_ticket_number_said_with_a_score_rates_the_ticket(action_server):
    """The NLU may hear only a ticket number in "工单号…五分": the score makes it a rating."""
    for said, score in (("工单号二六一二零二零零零二五分", 5), ("工单二六一二零二零零零二 我打两分", 2)):
        opened = slot_events(run_action(action_server.url, "validate_followup_form", text=said,
                                        intent="check_ticket", slots={}))
        assert (opened["followup_op"], opened["rating"]) == ("rate", score), said
    asked = slot_events(run_action(action_server.url, "validate_followup_form", text="查一下工单2612020002 给个五分",
                                   intent="check_ticket", slots={}))
    assert asked["followup_op"] == "check"  # a look-up asked for in words stays one


@pytest.mark.parametrize("said, intent, score", [("对 五颗星", "affirm", 5), ("三分吧", "inform", 3), ("是的 两分", "affirm", 2)])
def test_a_score_given_at_is_this_the_ticket_takes_the_ticket_and_keeps_the_score(action_server, said, intent, score):
    result = slot_events(run_action(action_server.url, "validate_followup_form", text=said, intent=intent,
                                    slots={"followup_op": "rate", "ticket_candidate": "2612010005",
                                           "requested_slot": "ticket_id"}))
    assert result["rating"] == score and result["ticket_candidate"] is None
