"""What every console shows beside the queue: the departments' pending review requests (extension and
return) and the alerts (a low rating sent a ticket back for rework, a 回访 failed after every attempt).

Both live in the issue API. While at least one console is open, the board reads them every
GATEWAY_REVIEW_POLL_SECONDS, so that requests made elsewhere (another gateway, a script) appear too,
and pushes the lists over the consoles' WebSocket when they change. Whatever this gateway itself
changes (a department's request through the workbench, a review decision, a rating from the widget)
`poke`s the board, which reads again at once, on this gateway and (over the event bus) on every other:
those appear without waiting for the next poll.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Callable

from bot.router import Router
from contract.issue_client import IssueApiError, IssueClient
from contract.vocabulary import RATING_LABELS, REWORK_MAX_SCORE

log = logging.getLogger(__name__)

LOW_RATING_SCAN = 200  # reworked tickets looked at per read (the newest in progress)


class ConsoleBoard:
    def __init__(self, issue_api: IssueClient, router: Router, interval: float) -> None:
        self.issue_api = issue_api
        self.router = router
        self.interval = interval
        self.reviews: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._failing: set[str] = set()  # parts whose last read failed (logged once per failure streak)
        router.on_board_changed(self._wake.set)

    def snapshot(self) -> list[dict[str, Any]]:
        """The events a console gets on connect."""
        return [{"type": "reviews", "items": self.reviews}, {"type": "alerts", "items": self.alerts}]

    def poke(self) -> None:
        """Read again now (something this gateway did changed the lists); every gateway sharing the
        event bus reads again too, so their consoles see the change as soon as this one's."""
        self.router.board_changed()

    async def refresh(self) -> None:
        """Read both lists; push those that changed to every console."""
        async with self._lock:
            reviews = await self._read("reviews", self._pending_reviews, self.reviews)
            alerts = await self._read("alerts", self._alerts, self.alerts)
            for kind, old, new in (("reviews", self.reviews, reviews), ("alerts", self.alerts, alerts)):
                if _key(old) != _key(new):
                    setattr(self, kind, new)
                    self.router.broadcast({"type": kind, "items": new})

    async def run(self) -> None:
        """Until cancelled: read while some console watches, every `interval` or when poked."""
        while True:
            self._wake.clear()
            if self.router.watched:
                try:
                    await self.refresh()
                except Exception:  # one bad pass must not stop the next ones
                    log.exception("reading review requests and alerts failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    # reading ---------------------------------------------------------------------------------------

    async def _read(self, part: str, read: Callable[[], list[dict[str, Any]]],
                    previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`read()` off the event loop; on failure the previous list stays (and one log line says why)."""
        try:
            items = await asyncio.to_thread(read)
        except IssueApiError as exc:
            if part not in self._failing:
                log.warning("cannot read %s from the issue API (%s %s); consoles keep the last list",
                            part, exc.status, exc.code)
            self._failing.add(part)
            return previous
        if part in self._failing:
            log.info("reading %s from the issue API works again", part)
            self._failing.discard(part)
        return items

    def _pending_reviews(self) -> list[dict[str, Any]]:
        found, more = self.issue_api.all_reviews("pending")
        if more:
            log.warning("more than %d pending review requests: the console shows the oldest", len(found))
        return found

    def _alerts(self) -> list[dict[str, Any]]:
        """Failed 回访 (an operator calls the reporter) and reworked tickets after a low rating, newest first."""
        alerts: list[dict[str, Any]] = []
        failures: list[str] = []
        try:
            for item in self.issue_api.callbacks(status="failed", limit=100):
                ticket = item.get("ticket") or {}
                alerts.append({
                    "type": "callback_failed", "ticket_id": str(item.get("ticket_id")),
                    "at": item.get("updated_at") or ticket.get("resolved_at") or "",
                    "attempts": item.get("attempts"), "last_outcome": item.get("last_outcome"),
                    "channel": item.get("channel"), "ticket": ticket,
                })
        except IssueApiError as exc:
            failures.append(f"callbacks: {exc.status} {exc.code}")
        try:
            for ticket in self.issue_api.tickets(status="in_progress", limit=LOW_RATING_SCAN):
                rating = ticket.get("rating") or {}
                score = rating.get("score")
                if isinstance(score, int) and score <= REWORK_MAX_SCORE:
                    alerts.append({
                        "type": "low_rating", "ticket_id": str(ticket.get("id")), "at": rating.get("at") or "",
                        "score": score, "label": RATING_LABELS.get(score, str(score)),
                        "comment": rating.get("comment"), "ticket": _brief(ticket),
                    })
        except IssueApiError as exc:
            failures.append(f"tickets: {exc.status} {exc.code}")
        if len(failures) == 2:
            raise IssueApiError(None, "; ".join(failures))
        alerts.sort(key=lambda a: str(a.get("at") or ""), reverse=True)
        return alerts


def _brief(ticket: dict[str, Any]) -> dict[str, Any]:
    """What an alert shows of its ticket."""
    keys = ("id", "category", "kind", "description", "department", "deadline", "status", "overdue", "rework_count",
            "contact_name", "company", "phone", "result")
    return {k: ticket.get(k) for k in keys}


def _key(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, sort_keys=True, ensure_ascii=False, default=str)

