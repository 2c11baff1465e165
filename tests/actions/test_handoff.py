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
