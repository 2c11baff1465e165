""""你刚才说什么": the bot's last turn again, word for word; inside a form, the question again."""
from __future__ import annotations

from actions.repeat import previous_turn_texts
from tests.actions.webhook import rendered, responses, run_action, user_event


def bot_event(text: str) -> dict:
    return {"event": "bot", "text": text, "data": {}, "metadata": {}}


FILED = [user_event("对的 提交吧", "affirm"), {"event": "action", "name": "action_submit_ticket"},
         bot_event("已经为您登记好了，工单编号是 2612 0200 01。"), bot_event("查询码 970436。"),
         {"event": "action", "name": "action_listen"}]


def test_the_previous_turn_is_said_again_in_order(action_server):
    result = run_action(action_server.url, "action_repeat_last", text="你刚才说什么", intent="ask_repeat",
                        history=[user_event("你好", "greet"), bot_event("您好，这里是96767。"), *FILED])
    assert responses(result)[0] == "utter_repeat_intro"
    assert rendered(result)[1:] == ["已经为您登记好了，工单编号是 2612 0200 01。", "查询码 970436。"]
    assert not [e for e in result["events"] if e.get("event") == "slot"]  # nothing changes


def test_asking_twice_gives_the_original_words_not_the_repeat():
    asked_once = [*FILED, user_event("再说一遍", "ask_repeat"), bot_event("好的，我再说一遍："),
                  bot_event("已经为您登记好了，工单编号是 2612 0200 01。"), bot_event("查询码 970436。")]
    assert previous_turn_texts([*asked_once, user_event("没听清", "ask_repeat")]) == [
        "已经为您登记好了，工单编号是 2612 0200 01。", "查询码 970436。"]


def test_inside_a_form_only_the_question_is_asked_again(action_server):
    result = run_action(action_server.url, "action_repeat_last", text="再说一遍", intent="ask_repeat",
                        history=[user_event("路灯坏了", "report_problem"), bot_event("请问您的单位名称是？")],
                        active_loop="ticket_form")
    assert responses(result) == ["utter_repeat_question"]  # the form asks its question right after


def test_nothing_to_repeat_at_the_start_asks_what_the_caller_needs(action_server):
    result = run_action(action_server.url, "action_repeat_last", text="你说什么", intent="ask_repeat")
    assert responses(result) == ["utter_how_can_i_help"]


def test_a_new_session_is_not_read_what_the_earlier_one_was_told():
    """Rasa keeps an expired session's events in the tracker; the filing and its 查询码 stay there."""
    new_session = [*FILED, {"event": "action", "name": "action_session_start"}, {"event": "session_started"},
                   {"event": "action", "name": "action_listen"}, user_event("你刚才说什么", "ask_repeat")]
    assert previous_turn_texts(new_session) == []
    restarted = [*FILED, {"event": "restart"}, {"event": "action", "name": "action_listen"},
                 user_event("再说一遍", "ask_repeat")]
    assert previous_turn_texts(restarted) == []
    greeted = [*FILED, {"event": "session_started"}, bot_event("您好，这里是96767。"), user_event("啥？", "ask_repeat")]
    assert previous_turn_texts(greeted) == ["您好，这里是96767。"]


def test_after_an_operator_had_the_conversation_the_transfer_notice_is_not_said_again(action_server):
    """The operator's words never reached the bot: "正在为您转接" again would be untrue."""
    handed = [user_event("转人工", "request_human"), bot_event("好的，正在为您转接人工客服。"),
              {"event": "bot", "text": None, "data": {"custom": {"handoff": {"reason": "caller_request",
                                                                            "summary": "", "ticket_id": None}}}},
              {"event": "action", "name": "action_listen"}]
    result = run_action(action_server.url, "action_repeat_last", text="你刚才说什么", intent="ask_repeat",
                        history=handed)
    assert responses(result) == ["utter_repeat_after_handoff"]
    assert "转接" not in "".join(rendered(result)[1:]) and len(rendered(result)) == 1


def test_hello_in_a_form_says_the_line_works_then_the_question_comes_again(action_server):
    # "喂？" is understood as "say again" as often as a greeting: either way, no answer to the question.
    result = run_action(action_server.url, "action_repeat_last", text="喂？", intent="ask_repeat",
                        history=[user_event("路灯坏了", "report_problem"), bot_event("请问您的单位名称是？")],
                        active_loop="ticket_form")
    assert responses(result) == ["utter_still_here"]


def test_asked_again_whether_this_is_the_hotline_in_a_form_the_caller_is_told_then_asked_again(action_server):
    result = run_action(action_server.url, "action_repeat_last", text="喂？是96767吗", intent="ask_repeat",
                        history=[user_event("路灯坏了", "report_problem"), bot_event("请问您的单位名称是？")],
                        active_loop="ticket_form")
    assert responses(result) == ["utter_this_is_the_hotline_briefly"]
