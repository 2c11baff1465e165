"""Background delivery of the outbox, in a daemon thread of the action server process.

A thread (not an asyncio task) because the client is blocking; it never touches the event loop.
"""
from __future__ import annotations

import logging
import threading

from actions.outbox import Outbox
from contract.issue_client import ApiUnavailable, Invalid, IssueApiError, IssueClient
from contract.vocabulary import fit_report

log = logging.getLogger(__name__)


class Deliverer:
    """Sends pending outbox entries with their original Idempotency-Key until the API takes them."""

    def __init__(self, outbox: Outbox, client: IssueClient, interval: float) -> None:
        self.outbox = outbox
        self.client = client
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox-deliverer", daemon=True)

    def start(self) -> "Deliverer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.deliver_due()
            except Exception:  # keep delivering whatever one bad entry does
                log.exception("outbox delivery round failed")

    def _fitted(self, key: str, payload: dict, refusal: Invalid) -> dict | None:
        """A queued report the API refuses was promised to the caller: file it with the fields cut to
        what the API keeps (and an unknown category or kind as 其他 / the default) rather than lose
        it. Only what still fails is left for a person (`python -m actions.outbox list`)."""
        fitted = fit_report(payload)
        if fitted != payload:
            try:
                ticket = self.client.create_ticket(fitted, key)
            except Invalid as exc:
                refusal = exc
            except IssueApiError as exc:  # down or slow now: the next round sends the report again
                self.outbox.retry_later(key, str(exc))
                return None
            else:
                log.warning("outbox entry %s filed as ticket %s with fields cut to fit: %s", key, ticket.get("id"),
                            sorted(k for k in fitted if fitted.get(k) != payload.get(k)))
                return ticket
        log.error("outbox entry %s rejected by the API: %s", key, refusal.fields)
        self.outbox.failed(key, f"422 {refusal.fields}")
        return None

    def deliver_due(self) -> int:
        """One round; returns how many entries were filed."""
        filed = 0
        for entry in self.outbox.claim_due():
            try:
                ticket = self.client.create_ticket(entry.payload, entry.idempotency_key)
            except ApiUnavailable as exc:
                self.outbox.retry_later(entry.idempotency_key, str(exc))
                break  # the API is down: no point trying the rest now
            except Invalid as exc:
                ticket = self._fitted(entry.idempotency_key, entry.payload, exc)
                if ticket is not None:
                    self.outbox.delivered(entry.idempotency_key, str(ticket.get("id")))
                    filed += 1
            except IssueApiError as exc:
                self.outbox.retry_later(entry.idempotency_key, str(exc))
            else:
                self.outbox.delivered(entry.idempotency_key, str(ticket.get("id")))
                log.info("outbox entry %s filed as ticket %s", entry.idempotency_key, ticket.get("id"))
                filed += 1
        return filed
