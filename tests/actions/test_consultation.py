""""登记咨询" after the bot answered a policy question: a call back about that question, filed as 咨询."""
from __future__ import annotations

from typing import Any

from tests.actions.webhook import responses, run_action, slot_events

QUESTION = "高新技术企业认定需要什么条件"


def faq_answered(question: str = QUESTION, topic: str = "high_tech_enterprise") -> list[dict[str, Any]]:
    return [{"event": "user", "text": question, "parse_data": {"text": question, "intent": {"name": "ask_policy"}}},
            {"event": "action", "name": "utter_ask_policy"},
            {"event": "bot", "text": "高新技术企业认定一般每年集中申报……请说“登记咨询”。",
             "metadata": {"utter_action": f"utter_ask_policy/{topic}"}},
            {"event": "action", "name": "action_listen"}]


def opened(action_server, text: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    return slot_events(run_action(action_server.url, "validate_ticket_form", text=text, intent="report_problem",
                                  history=history, slots={}))


def test_registering_a_consultation_keeps_the_question_and_asks_about_the_company(action_server):
    slots = opened(action_server, "登记咨询", faq_answered())
    assert slots["kind"] == "consult" and slots["consult_topic"] == QUESTION
    assert slots["requested_slot"] == "description" and slots["description_hint"] == "consult"
    # The caller's situation, said as a question, is the description: never the FAQ's again.
    said = "我们是做软件的 想今年申报 不知道研发费用怎么算"
    result = run_action(action_server.url, "validate_ticket_form", text=said, intent="ask_policy",
                        slots={"request_type": "problem", "kind": "consult", "consult_topic": QUESTION,
                               "description_hint": "consult", "requested_slot": "description"})
    answered = slot_events(result)
    assert answered["description"] == f"{QUESTION}；{said}"
    assert "kind" not in answered  # still 咨询
    assert answered["category"] == "税费政策"  # 研发费用: the situation names it


def test_the_question_names_the_category_when_it_can(action_server):
    slots = opened(action_server, "帮我登记一下 让部门联系我", faq_answered("人才落户需要什么条件", "talent_policy"))
    assert slots["category"] == "人才落户" and slots["kind"] == "consult"


def test_details_said_with_the_request_need_no_second_question(action_server):
    said = "登记咨询，我们公司是做芯片设计的，去年研发投入两千万"
    slots = opened(action_server, said, faq_answered())
    assert slots["description"] == f"{QUESTION}；{said}" and slots["requested_slot"] == "category"


def test_a_new_problem_after_a_faq_answer_is_a_report_of_its_own(action_server):
    slots = opened(action_server, "另外我们园区三号楼停电了 一直没人来修", faq_answered())
    assert slots["kind"] != "consult" and not slots.get("consult_topic")
    assert "停电" in slots["description"]


def test_without_a_faq_answer_just_before_there_is_no_consultation_topic(action_server):
    history = [*faq_answered(), {"event": "user", "text": "好的", "parse_data": {"text": "好的", "intent": {"name": "affirm"}}},
               {"event": "bot", "text": "请问还有什么可以帮您？", "metadata": {"utter_action": "utter_how_can_i_help"}}]
    assert not opened(action_server, "登记咨询", history).get("consult_topic")


def test_a_policy_question_in_an_ordinary_report_is_still_answered_from_the_faq(action_server):
    result = run_action(action_server.url, "validate_ticket_form", text="你们政务大厅几点上班", intent="ask_policy",
                        slots={"request_type": "problem", "kind": "help", "requested_slot": "description"})
    assert slot_events(result) == {} and responses(result) == []  # rejected: the rules answer it
