""""喂 听得到吗": the introduction once, then "听得到，您请讲"; a greeting never answers a form's question."""
from __future__ import annotations

import time

from actions.dialogue import asks_which_line, digression, greets_only
from tests.actions.webhook import rendered, responses, run_action, user_event


def bot_event(text: str) -> dict:
    return {"event": "bot", "text": text, "data": {}, "metadata": {}}


def test_the_first_hello_gets_the_introduction(action_server):
    result = run_action(action_server.url, "action_greet", text="喂 你好", intent="greet")
    assert responses(result) == ["utter_greet"]


def test_a_hello_after_the_bot_has_spoken_gets_a_short_answer(action_server):
    history = [user_event("你好", "greet"), bot_event("您好，这里是西安高新区96767企业服务热线……")]
    result = run_action(action_server.url, "action_greet", text="喂喂 听得见吗", intent="greet", history=history)
    assert responses(result) == ["utter_greet_again"]
    assert rendered(result, "voice") == ["您好，听得到，请问有什么可以帮您？"]
    assert "听得到" not in rendered(result, "web")[0]  # a chat is not heard


def test_a_first_check_of_the_line_is_answered_not_introduced(action_server):
    # On a call the line's own greeting came first: "喂 听得到吗" wants to know the line works.
    result = run_action(action_server.url, "action_greet", text="喂 听得到吗", intent="greet")
    assert responses(result) == ["utter_greet_again"]


def test_asked_whether_this_is_the_hotline_the_caller_is_told_its_name(action_server):
    history = [user_event("你好", "greet"), bot_event("您好，这里是西安高新区96767企业服务热线……")]
    for said in ("你好，请问是96767吗", "喂 哪位"):
        result = run_action(action_server.url, "action_greet", text=said, intent="greet", history=history)
        assert responses(result) == ["utter_this_is_the_hotline"], said
        assert "96767" in rendered(result)[0]
    first = run_action(action_server.url, "action_greet", text="你好，请问是96767吗", intent="greet")
    assert responses(first) == ["utter_greet"]  # the introduction names the hotline


def test_in_the_middle_of_a_question_a_greeting_gets_a_short_answer(action_server):
    history = [user_event("路灯坏了", "report_problem"), bot_event("请问您的单位名称是？")]
    for said, answer in (("喂 听得到吗", "utter_still_here"), ("你好，请问是96767吗", "utter_this_is_the_hotline_briefly"),
                         ("喂 是高新区企业服务热线吧", "utter_this_is_the_hotline_briefly")):
        result = run_action(action_server.url, "action_greet", text=said, intent="greet", history=history,
                            active_loop="ticket_form")
        assert responses(result) == [answer], said


def test_a_new_session_is_introduced_again(action_server):
    history = [user_event("你好", "greet"), bot_event("您好，这里是96767。"), {"event": "session_started"}]
    result = run_action(action_server.url, "action_greet", text="你好", intent="greet", history=history)
    assert responses(result) == ["utter_greet"]


def test_greetings_and_checks_of_the_line_are_told_apart_from_reports():
    for said in ("喂", "喂喂", "你好", "喂 听得到吗", "喂喂 能听到我说话吗", "听得见吗", "有人吗", "喂 喂 听不听得到",
                 "还在吗", "喂？", "能听清楚吗", "你那边听得到吗", "在吗 人呢", "听到没", "有没有人啊", "听到了吗",
                 "喂 听的到吗", "喂 在听吗", "喂 有人接吗"):
        assert greets_only(said), said
    for said in ("你好 我要投诉", "喂 路灯坏了", "听不清", "喂喂 听不见", "你好，我们公司停电了", "在园区门口", "有人乱停车"):
        assert not greets_only(said), said


def test_asking_whether_this_is_the_hotline_is_a_greeting_naming_it_is_not():
    for said in ("你好，请问是96767吗", "喂 是高新区企业服务热线吧", "您好 这边是助企一把的客服对吧", "喂 是不是九六七六七",
                 "喂 哪位", "请问是哪里", "喂 听得到吗 是96767吗", "是 9 6 7 6 7 吗", "喂 哪 位", "喂 是96767吗？是吗",
                 "你好 请问是96767吗 对吧", "你好 请问你是谁", "这里是96767热线吗", "是政务热线吗", "是96767热线不是"):
        assert greets_only(said) and asks_which_line(said), said
    assert greets_only("喂喂 听得见吗") and not asks_which_line("喂喂 听得见吗")
    for said in ("喂 是96767吗 我要投诉", "热线打不通", "喂 是高新区的吗", "高新区企业服务中心", "喂 我在哪里登记",
                 "你好 哪里可以办营业执照", "是的", "96767" * 20):
        assert not greets_only(said), said


def test_a_name_without_a_question_answers_the_form_and_is_no_greeting():
    # "西安热线" can be a company's name, "你们客服" who the caller spoke to, "是的 96767" a yes and a number.
    for said in ("西安热线", "高新热线", "西安企业服务热线", "西安客服", "客服电话", "你们客服", "96767热线", "是的 96767",
                 "哪里", "客服服务", "是吗", "谁", "热线不是", "客服 不是", "管委会", "是高新区管委会吧", "管委会对不对"):
        assert not greets_only(said), said


def test_a_long_turn_that_almost_greets_is_told_apart_at_once():
    # Read with a repeated group of optional parts, "听到"×19 and a last character took minutes and held the
    # action server; piece by piece it is linear.
    started = time.perf_counter()
    for said in ("的" * 30 + "x", "听到" * 20 + "x", "热线的" * 13 + "x", "你是" * 20 + "x", "在吗" * 20 + "x",
                 "有人" * 20 + "x", "是吗" * 20 + "x", "喂" * 500 + "x"):
        assert not greets_only(said), said
    assert time.perf_counter() - started < 1.0


def test_a_greeting_in_the_middle_of_a_form_is_no_answer():
    assert digression("greet", 0.99, "喂 听得到吗")
    assert digression("greet", 0.9, "喂？")
    assert not digression("greet", 0.9, "喂 我们园区门口的路灯坏了")  # the report itself
    assert not digression("greet", 0.3, "喂")  # unsure: left to the form
    assert digression("ask_repeat", 0.88, "喂？")  # understood as "say again" as often
