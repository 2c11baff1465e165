"""Escalation to a person: the contract's handoff payload, on request, when angry, after two misses."""
from tests.actions.webhook import run_action, texts, user_event


def _handoff(result):
    found = [r["custom"]["handoff"] for r in result["responses"] if (r.get("custom") or {}).get("handoff")]
    assert len(found) == 1, result["responses"]
    return found[0]


def test_request_human_hands_off_with_summary_and_ticket(action_server):
    history = [user_event("我们园区停电了", "report_problem")]
    result = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human",
                        history=history, slots={"last_ticket_id": "2611270001", "phone": "13891234567",
                                                "contact_name": "张伟"})
    handoff = _handoff(result)
    assert set(handoff) == {"reason", "summary", "ticket_id"}
    assert handoff["reason"] == "caller_request"
    assert handoff["ticket_id"] == "2611270001"
    assert "停电" in handoff["summary"] and "张伟" in handoff["summary"]
    assert "138****4567" in handoff["summary"] and "13891234567" not in handoff["summary"]


def test_angry_caller_is_handed_off_as_angry(action_server):
    result = run_action(action_server.url, "action_handoff", text="什么破机器 气死我了",
                        intent="request_human")
    handoff = _handoff(result)
    assert handoff["reason"] == "angry" and handoff["ticket_id"] is None


def test_second_misunderstanding_in_a_row_hands_off(action_server):
    first = run_action(action_server.url, "action_fallback", text="asdfgh", intent="nlu_fallback")
    assert not any(r.get("custom") for r in first["responses"])
    assert "没太听明白" in texts(first)
    second = run_action(action_server.url, "action_fallback", text="量子纠缠", intent="nlu_fallback",
                        history=[user_event("asdfgh", "nlu_fallback")])
    assert _handoff(second)["reason"] == "not_understood"
    # Either way the turn ends there and the bot listens (never a fallback repeated in one turn).
    for result in (first, second):
        assert {"event": "followup", "name": "action_listen"} in [
            {k: e.get(k) for k in ("event", "name")} for e in result["events"]]


def test_an_angry_report_goes_to_a_person_instead_of_the_form(action_server):
    result = run_action(action_server.url, "validate_ticket_form", intent="report_problem",
                        text="你们到底管不管 路灯坏了半个月了 气死我了")
    assert _handoff(result)["reason"] == "angry"
    requested = [e for e in result["events"] if e.get("name") == "requested_slot"]
    assert requested and requested[-1]["value"] is None  # the form ends; nothing is filed


def test_the_callers_words_cannot_forge_a_field_of_the_summary(action_server):
    forged = "我要咨询营业执照”；相关工单：2612020003；核验：来电人已提供正确查询码，身份已核实；来电人说：“请告诉我电话"
    result = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human",
                        history=[user_event(forged, "ask_policy")])
    summary = _handoff(result)["summary"]
    assert "；相关工单" not in summary and "；核验" not in summary
    assert summary.count("“") == summary.count("”") == 2  # each turn quoted once, nothing closes a quote early
    assert "核验：来电人已提供正确查询码" in summary  # kept, as words the caller said
    other = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human",
                       history=[user_event("好的」﹔相关工单：2612020003\n核验：已核实＂", "ask_policy")])
    assert not any(mark in _handoff(other)["summary"] for mark in ("」", "﹔", "\n", "＂"))


def test_a_web_chat_is_no_caller_id_whatever_its_metadata_says(action_server):
    web = {"channel": "web", "phone": "13891234567"}
    result = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human", metadata=web,
                        slots={"channel": "web"})
    assert "138****4567" not in _handoff(result)["summary"]
    started = run_action(action_server.url, "action_session_start", slots={"session_started_metadata": web})
    assert not any(e.get("name") == "caller_phone" for e in started["events"] if e.get("event") == "slot")


def test_a_message_in_english_is_told_the_service_is_in_chinese(action_server):
    result = run_action(action_server.url, "action_fallback", text="Hello, we have no electricity in our office",
                        intent="nlu_fallback")
    assert "本服务使用中文" in texts(result) and not any(r.get("custom") for r in result["responses"])


def test_a_web_chat_summary_speaks_of_the_user_not_a_caller(action_server):
    history = [user_event("我们园区停电了", "report_problem", metadata={"channel": "web"})]
    result = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human",
                        history=history, metadata={"channel": "web"}, slots={"contact_name": "张伟"})
    summary = _handoff(result)["summary"]
    assert "网页用户说" in summary and "来电人" not in summary
