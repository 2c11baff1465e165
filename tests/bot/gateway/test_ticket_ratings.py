"""Which chat ratings reach a ticket and when: at once when it is resolved, never for one still being
handled (its 回访 asks later), kept only while the issue API cannot be reached."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bot.gateway.pending_ratings import PendingRatings
from bot.gateway.ticket_ratings import TicketRatings
from contract.issue_client import IssueApiError
from tests.support.aio import run


class FakeIssueApi:
    """Tickets by id and status; `down` answers every call as an unreachable API would."""

    def __init__(self, **statuses: str) -> None:
        self.statuses = statuses
        self.down = False
        self.rated: list[tuple[str, int, str, str]] = []

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        if self.down:
            raise IssueApiError(None, "unavailable", "connection refused")
        if ticket_id not in self.statuses:
            raise IssueApiError(404, "not_found", "工单不存在")
        return {"id": ticket_id, "status": self.statuses[ticket_id], "resolved_at": "2026-12-01T10:00:00+08:00"}

    def rate(self, ticket_id: str, score: int, comment: str = "", key: str | None = None, **kwargs: Any) -> dict:
        self.rated.append((ticket_id, score, comment, kwargs.get("channel")))
        self.statuses[ticket_id] = "closed"
        return {"id": ticket_id}


@pytest.fixture
def kept(tmp_path: Path) -> PendingRatings:
    return PendingRatings(tmp_path / "gateway.db")


def test_a_resolved_ticket_is_rated_at_once_as_given_in_the_widget(kept: PendingRatings) -> None:
    api = FakeIssueApi(t1="resolved")
    assert run(TicketRatings(api, kept, 3600).rate("web-1", "t1", 5, "很好")) == "rated"
    assert api.rated == [("t1", 5, "很好", "web")] and kept.all() == []


@pytest.mark.parametrize("status", ["received", "assigned", "in_progress"])
def test_a_ticket_still_being_handled_is_left_to_its_callback(kept: PendingRatings, status: str) -> None:
    api = FakeIssueApi(t1=status)
    assert run(TicketRatings(api, kept, 3600).rate("web-1", "t1", 5, "")) == "not_resolved"
    assert api.rated == [] and kept.all() == []  # nothing waits to close it once resolved


def test_a_rating_the_issue_api_could_not_take_waits_for_it(kept: PendingRatings) -> None:
    api = FakeIssueApi(t1="resolved", t2="resolved", t3="resolved")
    ratings = TicketRatings(api, kept, 3600)
    api.down = True
    assert [run(ratings.rate("web-1", t, 4, "")) for t in ("t1", "t2", "t3")] == ["pending"] * 3
    assert run(ratings.retry_pending()) == {"rated": 0, "pending": 3, "not_resolved": 0, "dropped": 0}
    # Back: one resolved ticket takes it; one was sent back to the department meanwhile; one was cancelled.
    api.down = False
    api.statuses.update(t2="in_progress", t3="cancelled")
    assert run(ratings.retry_pending()) == {"rated": 1, "pending": 0, "not_resolved": 1, "dropped": 1}
    assert api.rated == [("t1", 4, "", "web")] and kept.all() == []


def test_a_kept_rating_is_given_up_after_its_maximum_age(kept: PendingRatings) -> None:
    api = FakeIssueApi(t1="resolved")
    api.down = True
    ratings = TicketRatings(api, kept, max_age_seconds=0.05)
    run(ratings.rate("web-1", "t1", 3, ""))
    time.sleep(0.1)
    api.down = False
    assert run(ratings.retry_pending())["dropped"] == 1 and api.rated == [] and kept.all() == []
