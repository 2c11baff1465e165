"""回访: a resolution owes the reporter a callback, due only in the callback hours of working days;
one dialer at a time; retries, then failed for an operator; done when the rating arrives; reset when
the ticket is resolved again after rework. The clock is fixed (ISSUE_API_NOW) and moved by
restarting the service on the same database."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from tests.issue_api.conftest import DEPARTMENT, TOKENS, Api, start_api

TUESDAY_10 = "2026-12-01T10:00:00+08:00"


def _error(response) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
    return response.json()["error"]


def _resolved(api: Api, **overrides: Any) -> Dict[str, Any]:
    ticket = api.file(**overrides)
    api.act(ticket["id"], "assign", department=DEPARTMENT)
    return api.act(ticket["id"], "resolve", role="department", result="已恢复供电")


def _callbacks(api: Api, **params: Any) -> List[Dict[str, Any]]:
    response = api.call("GET", "/callbacks", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _one(api: Api, ticket_id: str, **params: Any) -> Dict[str, Any]:
    [found] = [c for c in _callbacks(api, **params) if c["ticket_id"] == ticket_id]
    return found


def _due_ids(api: Api) -> List[str]:
    return [c["ticket_id"] for c in _callbacks(api, due="true")]


def test_a_resolution_schedules_a_callback_due_at_once(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api, channel="voice", contact_name="李女士")
    callback = _one(api, ticket["id"])
    assert (callback["status"], callback["status_label"], callback["attempts"], callback["channel"]) == (
        "pending", "待回访", 0, "voice")
    assert callback["next_attempt_at"] == TUESDAY_10 and callback["last_outcome"] is None
    assert callback["ticket"]["phone"] == ticket["phone"]  # full number: the dialer calls it
    assert (callback["ticket"]["contact_name"], callback["ticket"]["result"], callback["ticket"]["resolved_at"]) == (
        "李女士", "已恢复供电", TUESDAY_10)
    assert _due_ids(api) == [ticket["id"]]
    unresolved = api.file()
    assert api.call("POST", f"/callbacks/{unresolved['id']}/claim").status_code == 404


@pytest.fixture(scope="module")
def resolved_on_monday(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[str, str]]:
    """An SQLite database with one ticket resolved on Monday 30 November at 08:00."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('callback_hours') / 'issues.db'}"
    api = start_api(db_url, tmp_path_factory.mktemp("callback_hours_logs"), ISSUE_API_NOW="2026-11-30T08:00:00+08:00")
    ticket = _resolved(api)
    api.server.stop()
    yield db_url, ticket["id"]


@pytest.mark.parametrize("now,env,due", [
    ("2026-12-01T09:00:00+08:00", {}, True),   # Tuesday, the first minute of the morning window
    ("2026-12-01T12:30:00+08:00", {}, False),  # lunch
    ("2026-12-01T18:00:00+08:00", {}, False),  # the afternoon window has just closed
    ("2026-12-05T10:00:00+08:00", {}, False),  # Saturday
    ("2026-12-01T10:00:00+08:00", {"ISSUE_API_HOLIDAYS": "2026-12-01"}, False),
    ("2026-12-05T10:00:00+08:00", {"ISSUE_API_WORKDAYS": "2026-12-05"}, True),  # 调休: a Saturday worked
    ("2026-12-01T19:30:00+08:00", {"ISSUE_API_CALLBACK_HOURS": "19:00-21:00"}, True),
])
def test_callbacks_are_due_only_in_the_callback_hours_of_working_days(  # type: ignore[no-untyped-def]
        resolved_on_monday, tmp_path, now: str, env: Dict[str, str], due: bool) -> None:
    # (The window arithmetic is pure Python, checked in test_calendar; the due query runs on both
    # databases in the other tests here.)
    db_url, ticket_id = resolved_on_monday
    api = start_api(db_url, tmp_path, ISSUE_API_NOW=now, **env)
    try:
        assert _due_ids(api) == ([ticket_id] if due else [])
        assert [c["ticket_id"] for c in _callbacks(api)] == [ticket_id]  # still listed, only not due
        if not due:  # (a successful claim would change the shared database)
            claim = api.call("POST", f"/callbacks/{ticket_id}/claim")
            assert claim.status_code == 409 and _error(claim)["code"] == "callback_not_due"
            assert "现在不是回访时段" in _error(claim)["message"]
    finally:
        api.server.stop()


def test_a_claim_is_exclusive_while_its_lease_lasts(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10, ISSUE_API_CALLBACK_LEASE_SECONDS="300")
    ticket = _resolved(api)
    claimed = api.call("POST", f"/callbacks/{ticket['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["lease_until"]) == ("calling", "2026-12-01T10:05:00+08:00")
    again = api.call("POST", f"/callbacks/{ticket['id']}/claim", role="admin")
    assert again.status_code == 409 and _error(again) == {
        "code": "callback_not_due", "message": "该回访任务正由其他坐席拨打"}
    assert _due_ids(api) == []


def test_an_expired_lease_makes_the_callback_due_again(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    db_url = new_database(backend)
    first = fresh_api(db_url, ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(first)
    assert first.call("POST", f"/callbacks/{ticket['id']}/claim").status_code == 200  # and the dialer dies
    first.server.stop()
    later = fresh_api(db_url, ISSUE_API_NOW="2026-12-01T10:11:00+08:00")  # default lease: 600 s
    assert _due_ids(later) == [ticket["id"]]
    assert later.call("POST", f"/callbacks/{ticket['id']}/claim").status_code == 200


def test_two_dialers_racing_for_one_callback_exactly_one_wins(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api)
    dialers = 16
    barrier = threading.Barrier(dialers)

    def claim(_: int) -> requests.Response:
        session = requests.Session()
        barrier.wait()
        return session.post(f"{api.url}/api/v1/callbacks/{ticket['id']}/claim", timeout=60,
                            headers={"Authorization": f"Bearer {TOKENS['operator']}"})

    with ThreadPoolExecutor(dialers) as pool:
        responses = list(pool.map(claim, range(dialers)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * (dialers - 1), [r.text for r in responses]
    assert all(_error(r)["code"] == "callback_not_due" for r in responses if r.status_code == 409)


def test_unanswered_calls_are_retried_then_failed_for_an_operator(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    db_url = new_database(backend)
    api = fresh_api(db_url, ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api)
    not_claimed = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "no_answer"})
    assert not_claimed.status_code == 409 and _error(not_claimed)["code"] == "callback_not_calling"

    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    first = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "no_answer"}).json()
    assert (first["status"], first["attempts"], first["last_outcome"], first["lease_until"]) == (
        "pending", 1, "no_answer", None)
    assert first["next_attempt_at"] == "2026-12-01T11:00:00+08:00"  # ISSUE_API_CALLBACK_RETRY_MINUTES=60
    assert _due_ids(api) == []
    too_soon = api.call("POST", f"/callbacks/{ticket['id']}/claim")
    assert too_soon.status_code == 409 and "还未到拨打时间" in _error(too_soon)["message"]
    repeated = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "no_answer"})
    assert repeated.status_code == 409  # a repeated report is not a second attempt
    api.server.stop()

    api = fresh_api(db_url, ISSUE_API_NOW="2026-12-01T11:00:00+08:00")
    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    second = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "busy"}).json()
    assert (second["status"], second["attempts"]) == ("pending", 2)
    api.server.stop()

    api = fresh_api(db_url, ISSUE_API_NOW="2026-12-01T14:00:00+08:00")
    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    third = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "busy"}).json()
    assert (third["status"], third["status_label"], third["attempts"]) == ("failed", "回访失败", 3)
    history = api.get(ticket["id"])["history"]
    assert (history[-1]["action"], history[-1]["action_label"], history[-1]["note"]) == (
        "callback_failed", "回访失败", "回访失败：占线 共 3 次")
    assert [c["ticket_id"] for c in _callbacks(api, status="failed")] == [ticket["id"]]
    assert api.call("GET", "/stats").json()["callbacks_failed"] == 1
    # An operator reaches the reporter another way: the rating still completes the callback.
    api.act(ticket["id"], "rating", score=4)
    assert _one(api, ticket["id"])["status"] == "done"


def test_a_reporter_declining_to_rate_ends_the_callback(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api)
    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    declined = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "declined"}).json()
    assert (declined["status"], declined["attempts"], declined["last_outcome"]) == ("done", 1, "declined")
    after = api.get(ticket["id"])
    assert after["status"] == "resolved" and after["rating"] is None
    assert (after["history"][-1]["action"], after["history"][-1]["note"]) == ("callback_done", "回访结束：拒绝评价(第 1 次拨打)")


def test_the_rating_completes_the_callback(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api)
    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    # The dialled reporter rates through the bot, proved by the number the callback dialled.
    rated = api.call("POST", f"/tickets/{ticket['id']}/rating", role="bot", proof=False, json={"score": 5},
                     headers={"X-Caller-Phone": ticket["phone"]})
    assert rated.status_code == 200, rated.text
    assert [e["action"] for e in rated.json()["history"]][-3:] == ["rated", "callback_done", "closed"]
    assert _one(api, ticket["id"])["status"] == "done"
    late_report = api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "no_rating"})
    assert late_report.status_code == 409 and "已回访" in _error(late_report)["message"]
    assert api.call("POST", f"/callbacks/{ticket['id']}/claim").status_code == 409


def test_rework_then_a_new_resolution_resets_the_callback(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    ticket = _resolved(api)
    api.call("POST", f"/callbacks/{ticket['id']}/claim")
    api.call("POST", f"/callbacks/{ticket['id']}/attempts", json={"outcome": "busy"})
    api.call("POST", f"/callbacks/{ticket['id']}/claim")  # still 10:00 on the fixed clock: not due yet
    reworked = api.act(ticket["id"], "rating", role="bot", score=2, comment="仍然停电")
    assert reworked["status"] == "in_progress"
    assert (_one(api, ticket["id"])["status"], _one(api, ticket["id"])["attempts"]) == ("done", 1)

    api.act(ticket["id"], "resolve", role="department", result="已更换变压器")
    again = _one(api, ticket["id"])
    assert (again["status"], again["attempts"], again["last_outcome"]) == ("pending", 0, None)
    assert _due_ids(api) == [ticket["id"]]
    assert [e["action"] for e in api.get(ticket["id"])["history"]].count("callback_done") == 1


def test_filters_and_their_errors(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    web = _resolved(api, channel="web")
    voice = _resolved(api, channel="voice")
    assert [c["ticket_id"] for c in _callbacks(api, channel="web")] == [web["id"]]
    assert [c["ticket_id"] for c in _callbacks(api, channel="voice", status="pending")] == [voice["id"]]
    assert _callbacks(api, status="failed") == []
    for params, field in [({"status": "later"}, "status"), ({"channel": "fax"}, "channel"), ({"due": "maybe"}, "due"),
                          ({"limit": "0"}, "limit")]:
        response = api.call("GET", "/callbacks", params=params)
        assert response.status_code == 422 and _error(response)["fields"][0]["field"] == field, params
    assert _error(api.call("GET", "/callbacks", params={"status": "later"}))["fields"][0]["message"].startswith("回访状态应为")
    bad_outcome = api.call("POST", f"/callbacks/{web['id']}/attempts", json={"outcome": "hung_up"})
    assert bad_outcome.status_code == 422 and _error(bad_outcome)["fields"][0]["code"] == "outcome_invalid"
    assert api.call("POST", "/callbacks/not-a-ticket/claim").status_code == 404


def test_a_rating_and_an_attempt_at_the_same_moment_both_end_cleanly(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=TUESDAY_10)
    operator = {"Authorization": f"Bearer {TOKENS['operator']}"}
    for _ in range(8):
        ticket = _resolved(api)
        assert api.call("POST", f"/callbacks/{ticket['id']}/claim").status_code == 200
        barrier = threading.Barrier(2)

        def send(path: str, body: Dict[str, Any]) -> requests.Response:
            session = requests.Session()
            barrier.wait()
            return session.post(f"{api.url}/api/v1{path}", json=body, headers=operator, timeout=60)

        with ThreadPoolExecutor(2) as pool:
            rating = pool.submit(send, f"/tickets/{ticket['id']}/rating", {"score": 4})
            attempt = pool.submit(send, f"/callbacks/{ticket['id']}/attempts", {"outcome": "declined"})
        assert rating.result().status_code == 200, rating.result().text
        assert attempt.result().status_code in (200, 409), attempt.result().text  # 409: the rating came first
        assert _one(api, ticket["id"])["status"] == "done"
