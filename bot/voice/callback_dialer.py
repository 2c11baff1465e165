"""The 回访 (callback) dialer: calls reporters of resolved tickets back through the PBX.

The schedule is durable and lives in the issue API (table `callbacks`): it decides what is due
(callback hours of working days, retry delays, the number of attempts) and hands each callback to
one dialer at a time with a lease. The dialer lives in the AudioSocket process because that process
answers the calls it places: every CALLBACK_POLL_SECONDS it asks for due phone callbacks
(GET /callbacks?due=true&channel=voice), claims one (POST /callbacks/{id}/claim), holds a call slot
for it and sends AMI `Originate` (Async) with Application=AudioSocket and a new call UUID; Asterisk
connects the answered call to this server under that UUID, where `CallbackSession` runs instead of
the hotline dialogue. A call that is not answered records its outcome (no_answer, busy, failed)
as an attempt (POST /callbacks/{id}/attempts).

Nothing is kept here but the calls in flight: a dialer that dies mid-way leaves its claim to run out,
and the callback is due again for whichever dialer asks next.
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from bot.voice.settings import VoiceSettings
from contract.issue_client import IssueApiError, IssueClient, Refused
from contract.phones import mask_phone

log = logging.getLogger(__name__)

# The call is placed by `originate(settings, channel, application, data, caller_id, ring_timeout)`,
# which returns answered, no_answer, busy or failed (bot.voice.ami.originate).
Originate = Callable[..., str]


class SlotReservations(Protocol):
    """What the dialer needs from the server's call slots (audiosocket_server.CallSlots)."""

    def reserve(self, call_id: str) -> bool: ...

    def release(self, call_id: str) -> None: ...

    @property
    def free(self) -> int: ...


@dataclass
class CallbackJob:
    """A callback in flight: from the Originate until its call ends."""

    call_id: str
    ticket: dict[str, Any]
    connected: threading.Event = field(default_factory=threading.Event)

    @property
    def ticket_id(self) -> str:
        return str(self.ticket["id"])


def dial_digits(phone: object) -> str:
    """The digits to dial: "029-88881234" -> "02988881234" (nothing else reaches the dial string)."""
    return re.sub(r"\D", "", str(phone or ""))


class CallbackDialer:
    def __init__(self, settings: VoiceSettings, issue: IssueClient, slots: SlotReservations,
                 originate: Optional[Originate] = None) -> None:
        if originate is None:
            from bot.voice.ami import originate as ami_originate

            originate = ami_originate
        self.settings, self.issue, self.slots, self._originate = settings, issue, slots, originate
        self._jobs: dict[str, CallbackJob] = {}
        self._lock = threading.Lock()

    # -- the AudioSocket server's side ----------------------------------------------------------------
    def connected(self, call_id: str) -> Optional[CallbackJob]:
        """The callback this incoming AudioSocket connection answers, or None (an ordinary call)."""
        with self._lock:
            job = self._jobs.get(call_id)
        if job is not None:
            job.connected.set()
        return job

    def finished(self, call_id: str, outcome: str) -> None:
        """The callback call ended (its session reported the outcome)."""
        with self._lock:
            self._jobs.pop(call_id, None)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._jobs)

    # -- polling ---------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll the schedule until cancelled."""
        log.info("callback dialer on: every %gs, up to %d call(s) at once via %s", self.settings.callback_poll_seconds,
                 self.settings.callback_max_calls, self.settings.callback_channel)
        while True:
            try:
                await self.poll_once()
            except Exception:  # the dialer must outlive any one bad poll
                log.exception("callback poll failed")
            await asyncio.sleep(self.settings.callback_poll_seconds)

    async def poll_once(self) -> int:
        """Place the due callbacks there is room for; the number placed."""
        room = min(self.settings.callback_max_calls - self.in_flight, self.slots.free)
        if room <= 0:
            return 0
        try:
            due = await asyncio.to_thread(self.issue.callbacks, due=True, channel="voice", limit=room + 5)
        except IssueApiError as exc:
            log.warning("callback schedule unavailable: %s", exc)
            return 0
        placed = 0
        for item in due:
            if placed >= room:
                break
            ticket = dict(item.get("ticket") or {})
            ticket.setdefault("id", item.get("ticket_id"))
            if ticket.get("id") is None:
                continue
            if await asyncio.to_thread(self._place, ticket):
                placed += 1
        return placed

    def _place(self, ticket: dict[str, Any]) -> bool:
        """Claim one callback and start its call; False when it was not placed."""
        ticket_id = str(ticket["id"])
        with self._lock:
            if any(job.ticket_id == ticket_id for job in self._jobs.values()):
                return False
        call_id = str(uuid.uuid4())
        # The slot first: a claim cannot be given back, only left to run out.
        if not self.slots.reserve(call_id):
            return False
        try:
            self.issue.claim_callback(ticket_id)
        except IssueApiError as exc:
            self.slots.release(call_id)
            if not isinstance(exc, Refused):  # Refused: another dialer has it, or it is no longer due
                log.warning("callback of ticket %s not claimed: %s", ticket_id, exc)
            return False
        digits = dial_digits(ticket.get("phone"))
        if not digits:
            self.slots.release(call_id)
            log.error("callback of ticket %s: no number to dial", ticket_id)
            self._record(ticket_id, "failed")
            return False
        job = CallbackJob(call_id, ticket)
        with self._lock:
            self._jobs[call_id] = job
        channel = (self.settings.callback_channel or "").replace("{phone}", digits)
        log.info("callback of ticket %s: calling %s (call %s)", ticket_id, mask_phone(ticket.get("phone")), call_id)
        threading.Thread(target=self._call, args=(job, channel), name=f"callback-{call_id}", daemon=True).start()
        return True

    def _call(self, job: CallbackJob, channel: str) -> None:
        """Ring the reporter (blocks for the ring time) and follow up what happened."""
        s = self.settings
        outcome = "failed"
        try:
            outcome = self._originate(s, channel, "AudioSocket", f"{job.call_id},{s.callback_audiosocket_address}",
                                      s.callback_caller_id, s.callback_ring_timeout)
        except Exception:
            log.exception("callback of ticket %s: originate failed", job.ticket_id)
        if outcome == "answered":
            if job.connected.wait(s.callback_connect_timeout):
                return  # the call is the session's now; it reports the outcome
            log.error("callback of ticket %s answered but no AudioSocket connection in %gs: check the PBX can reach %s",
                      job.ticket_id, s.callback_connect_timeout, s.callback_audiosocket_address)
            outcome = "failed"
        with self._lock:
            self._jobs.pop(job.call_id, None)
        self.slots.release(job.call_id)
        log.info("callback of ticket %s: %s", job.ticket_id, outcome)
        self._record(job.ticket_id, outcome)

    def _record(self, ticket_id: str, outcome: str) -> None:
        try:
            self.issue.record_callback_attempt(ticket_id, outcome)
        except IssueApiError as exc:  # the lease runs out and the callback is due again
            log.error("callback of ticket %s: attempt %s not recorded: %s", ticket_id, outcome, exc)


def build_dialer(settings: VoiceSettings, slots: SlotReservations) -> Optional[CallbackDialer]:
    """The dialer when CALLBACK_CHANNEL is set and AMI and the issue API are configured, else None."""
    if not settings.callback_channel:
        return None
    missing = [name for name, value in (("AMI_HOST", settings.ami_host),
                                        ("ISSUE_API_OPERATOR_TOKEN", settings.issue_api_token)) if not value]
    if missing:
        log.error("callback dialer off: CALLBACK_CHANNEL is set but %s is not", " and ".join(missing))
        return None
    return CallbackDialer(settings, IssueClient(settings.issue_api_url, settings.issue_api_token), slots)
