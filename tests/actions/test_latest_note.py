"""A proved caller who looks a ticket up hears or reads the department's latest progress note, and
once the ticket is resolved its answer."""
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import latest_note, say_status
from contract.replies import reply

TICKET = {"id": "20261201001", "status": "in_progress", "department": "城市管理和综合执法局",
          "deadline": "2026-12-08T23:59:59+08:00", "overdue": False}
NOTES = [{"at": "2026-12-02T10:00:00+08:00", "text": "已派人现场查看", "actor": "department/城市管理和综合执法局"},
         {"at": "2026-12-03T09:00:00+08:00", "text": "配件已到，\n明天更换路灯", "actor": "department/城市管理和综合执法局"}]


def _said(ticket: dict) -> list[dict]:
    dispatcher = CollectingDispatcher()
    say_status(dispatcher, ticket)
    return dispatcher.messages


def test_the_latest_note_follows_the_status_of_an_open_ticket() -> None:
    said = _said({**TICKET, "progress_notes": NOTES})
    assert [m["response"] for m in said] == ["utter_ticket_status_in_progress", "utter_ticket_latest_note"]
    assert said[1]["note"] == "配件已到， 明天更换路灯"  # one line, for speech and chat alike
    assert reply("utter_ticket_latest_note", note=said[1]["note"]) == "最新进展：配件已到， 明天更换路灯"


def test_no_note_no_line_and_a_resolved_ticket_is_read_by_its_status_only() -> None:
    assert [m["response"] for m in _said(TICKET)] == ["utter_ticket_status_in_progress"]
    assert [m["response"] for m in _said({**TICKET, "progress_notes": []})] == ["utter_ticket_status_in_progress"]
    resolved = _said({**TICKET, "status": "resolved", "progress_notes": NOTES})
    assert [m["response"] for m in resolved] == ["utter_ticket_status_resolved"]


def test_a_long_note_is_cut_for_reading_aloud() -> None:
    assert latest_note({"progress_notes": [{"text": "很" * 500}]}) == "很" * 200 + "……"


def test_a_resolved_ticket_is_read_with_the_department_s_answer() -> None:
    resolved = _said({**TICKET, "status": "resolved", "result": "已更换灯泡，\n路灯恢复正常", "progress_notes": NOTES})
    assert [m["response"] for m in resolved] == ["utter_ticket_status_resolved", "utter_ticket_result"]
    assert reply("utter_ticket_result", result=resolved[1]["result"]) == "办理结果：已更换灯泡， 路灯恢复正常"
    closed = _said({**TICKET, "status": "closed", "result": "答" * 400})
    assert closed[1]["result"] == "答" * 300 + "……"
    assert [m["response"] for m in _said({**TICKET, "status": "resolved"})] == ["utter_ticket_status_resolved"]
