"""Passing end-of-chat ratings on to tickets through the issue API: at once if the ticket is
resolved; kept (see pending_ratings) and retried every GATEWAY_RATING_RETRY_SECONDS only while the
issue API cannot be reached.

The issue API takes a rating only for a `resolved` ticket and then archives it as `closed`. A rating
given while the ticket is still being handled is not kept for it: the reporter has not seen the
result yet, and a score given before the work would close the ticket and end its 回访 the moment the
department resolves it. That ticket is rated through its 回访 instead (the widget offers the form once
it is resolved). One that was cancelled, already rated or is gone never will take the rating, so that
rating is dropped with a log line. An issue API that is down or refuses the gateway's token is a
passing problem: the rating waits, and is passed on if the ticket is resolved by then.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Literal

from bot.gateway.pending_ratings import PendingRatings
from contract.issue_client import IssueApiError, IssueClient

log = logging.getLogger(__name__)

# rated: the ticket has it; pending: kept until the issue API answers; not_resolved: the ticket is
# still being handled and is rated by its 回访; dropped: it never will take this rating.
Outcome = Literal["rated", "pending", "not_resolved", "dropped"]

# Statuses on the way to `resolved`: a rating for these tickets waits.
STILL_OPEN = {"received", "assigned", "in_progress"}
# Refusals that will not change by asking again: unknown ticket, not allowed in its state, bad score.
FINAL_REFUSALS = {404, 409, 422}


class TicketRatings:
    """The router's TicketRater: rates now, or keeps the rating until the ticket is resolved."""

    def __init__(self, issue_api: IssueClient, pending: PendingRatings, max_age_seconds: float) -> None:
        self.issue_api = issue_api
        self.pending = pending
        self.max_age_seconds = max_age_seconds

    async def rate(self, conversation_id: str, ticket_id: str, score: int, comment: str) -> Outcome:
        outcome = await self._try(conversation_id, ticket_id, score, comment)
        if outcome == "pending":
            self.pending.keep(conversation_id, ticket_id, score, comment)
            log.info("rating of ticket %s from %s kept until the ticket is resolved", ticket_id, conversation_id)
        return outcome

    async def retry_pending(self) -> dict[str, int]:
        """One pass over the kept ratings; returns how many were rated, dropped or still wait."""
        counts = {"rated": 0, "pending": 0, "not_resolved": 0, "dropped": 0}
        for rating in self.pending.all():
            if time.time() - rating.created_at > self.max_age_seconds:
                log.warning("dropping the rating of ticket %s from %s: the ticket was not resolved within "
                            "%.0f days", rating.ticket_id, rating.conversation_id, self.max_age_seconds / 86400)
                outcome: Outcome = "dropped"
            else:
                outcome = await self._try(rating.conversation_id, rating.ticket_id, rating.score, rating.comment)
            if outcome != "pending":
                self.pending.drop(rating)
            counts[outcome] += 1
        return counts

    async def _try(self, conversation_id: str, ticket_id: str, score: int, comment: str) -> Outcome:
        try:
            ticket = await asyncio.to_thread(self.issue_api.get_ticket, ticket_id)
            status = ticket.get("status")
            if status in STILL_OPEN:
                log.info("rating of ticket %s from %s not passed on: the ticket is %s, its 回访 asks once it "
                         "is resolved", ticket_id, conversation_id, status)
                return "not_resolved"
            if status != "resolved":
                log.warning("dropping the rating of ticket %s from %s: the ticket is %s", ticket_id,
                            conversation_id, status)
                return "dropped"
            # These ratings come from the widget only (the bot rates on the phone itself), so the
            # history says 网页对话中评价 and not the operator account that carries them.
            await asyncio.to_thread(self.issue_api.rate, ticket_id, score, comment, _rating_key(conversation_id, ticket),
                                    channel="web")
        except IssueApiError as exc:
            if exc.status in FINAL_REFUSALS:
                log.warning("dropping the rating of ticket %s from %s: the issue API refused it (%s %s)",
                            ticket_id, conversation_id, exc.status, exc.code)
                return "dropped"
            log.warning("could not pass the rating on to ticket %s yet (%s %s); will retry", ticket_id,
                        exc.status, exc.code)
            return "pending"
        log.info("rating %d of %s passed on to ticket %s", score, conversation_id, ticket_id)
        return "rated"


def _rating_key(conversation_id: str, ticket: dict) -> str:
    """One end-of-chat rating per conversation and resolution of a ticket: a retry after a lost
    answer rates once; after a rework and a new resolution the conversation may rate again."""
    raw = f"{conversation_id}|{ticket.get('id')}|{ticket.get('resolved_at')}"
    digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
    return f"chat-rating-{digest}"


async def retry_periodically(ratings: TicketRatings, interval: float) -> None:
    """Run until cancelled (at gateway shutdown); the first pass right away catches up after a restart."""
    while True:
        try:
            counts = await ratings.retry_pending()
            if counts["rated"] or counts["dropped"] or counts["not_resolved"]:
                log.info("pending ratings: %(rated)d passed on, %(not_resolved)d left to the 回访 of tickets "
                         "still being handled, %(dropped)d dropped, %(pending)d waiting", counts)
        except Exception:  # one bad pass (a locked database, a bug) must not stop the next ones
            log.exception("retrying pending ratings failed")
        await asyncio.sleep(interval)
