"""The one conversation router every channel (web widget, voice, channel API) goes through.

It decides who answers a user's message: the Rasa bot (state `bot`), nobody yet (`waiting`, the
conversation sits in the operators' queue), or the operator who claimed it (`operator`). A finished
conversation is `closed`; a new message from the same sender opens it again with the bot.

    bot --handoff payload from Rasa--> waiting --claim--> operator --hand back--> bot
      waiting/operator --close--> closed --user writes again--> bot

Every message, whoever wrote it, is stored before it is published, so that history, the console's
transcript and long-polling channels all read the same sequence numbers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections import deque
from typing import Any, AsyncIterator, Callable, Optional, Protocol

from bot.conversation_store import Conversation, ConversationStore
from bot.event_bus import LocalBus
from bot.rasa_rest import BotUnavailable
from contract.messages import HANDOFF, handoff_of, tickets_of
from contract.phones import mask_phone
from contract.query_codes import mask_said, without_proof
from contract.replies import reply
from contract.text_input import clean_text, in_simplified, without_markup
from contract.vocabulary import REWORK_MAX_SCORE

log = logging.getLogger(__name__)
VOICE_TRANSCRIPT_MAX = 10_000  # characters of one spoken turn kept in the transcript (about 20 minutes)
BOARD_CHANGED = "board_changed"  # review requests or alerts changed somewhere: consoles' lists are read again

# What users read (wording in domain.yml). System notices are stored in the transcript so that
# operators see them too.
NOTICE_WAITING = reply("utter_notice_waiting")
NOTICE_STILL_WAITING = reply("utter_notice_still_waiting")
NOTICE_LEFT_QUEUE = reply("utter_notice_left_queue")
NOTICE_CLAIMED = reply("utter_notice_claimed")  # names nobody: the user side never learns a login name
NOTICE_HANDED_BACK = reply("utter_notice_handed_back")
NOTICE_CLOSED = reply("utter_notice_closed")
NOTICE_BOT_DOWN = reply("utter_notice_bot_down")
# Unanswered turns in a row after which a chat goes to the operators' queue by itself.
BOT_FAILURES_BEFORE_HANDOFF = 3
NOTICE_EMPTY = reply("utter_notice_empty")
NOTICE_TOO_LONG = reply("utter_notice_too_long")  # {limit}
NOTICE_TOO_FAST = reply("utter_notice_too_fast")
NOTICE_RATED = reply("utter_notice_rated")
NOTICE_RATED_TICKET = reply("utter_notice_rated_ticket")  # {ticket_id}
NOTICE_RATING_PENDING = reply("utter_notice_rating_pending")  # {ticket_id}
NOTICE_RATING_AFTER_RESOLUTION = reply("utter_notice_rating_after_resolution")  # {ticket_id}
NOTICE_RATED_TICKET_REWORK = reply("utter_notice_rated_ticket_rework")  # {ticket_id}
NOTICE_TICKET_RATING_FAILED = reply("utter_notice_ticket_rating_failed")  # {ticket_id}

# Asking for a person, as the router reads it when the bot cannot: "转人工", "我要人工客服", "找客服", a bare
# "人工"; not every sentence that names the service ("谢谢客服").
_WANTS_HUMAN = re.compile(r"(转|找|要|接|换|叫|联系|打给)\s*(一?个|一下|下)?\s*(人工|真人|客服|坐席|接线员)"
                          r"|^\s*(人工|人工客服|人工服务|客服|真人)\s*[。！!？?]*\s*$")
# "算了，不用人工了" / "不等了" while waiting for an operator: back to the bot, which answers what
# else the message says ("算了不等了，我就是想投诉一下物业").
_STOPS_WAITING = re.compile(r"(不用|不要|不需要|不找|不转|取消|别转)(转)?(人工客服|人工|客服|真人)|不等了|不用等了|算了不等")
# Pressing for a person, not leaving: "不转人工我就不等了", "再不来我就不等了".
_PRESSING = re.compile(r"就不等|再不|不然|否则|快点|赶紧|马上")
# What, said beside it, means the user still wants a person: "不等了，人工", "不用客服联系了，我等人工".
_STILL_WANTS_PERSON = re.compile(r"人工|客服|真人|坐席|等|联系|电话|打给|回电")
_LEFT_OVER = re.compile(r"^([\W_]|算了|好吧|好的|那|吧|了)+|[\W_]+$")
_REQUEST_HUMAN_PAYLOAD = "/request_human"  # the bot's own 转人工 quick reply
OPERATOR_TURNS_KEPT = 200  # an operator's latest messages of one human part that the bot's record gains
OUTAGE_REASON = "bot_unavailable"  # contract.messages.HANDOFF_REASONS

ACTIVE_STATES = ("waiting", "operator")
# The states as the console names them (its refusals are read by operators, never the English code).
STATE_LABELS = {"bot": "智能助手服务中", "waiting": "等待接入", "operator": "人工服务中", "closed": "已结束"}


class ConversationConflict(Exception):
    """An operator action that the conversation's state or owner does not allow."""


class UnknownConversation(KeyError):
    pass


class BotClient(Protocol):
    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Rasa REST channel semantics: the bot's reply messages, in order."""


class TicketRater(Protocol):
    async def rate(self, conversation_id: str, ticket_id: str, score: int, comment: str) -> str:
        """"rated" (the ticket has it), "pending" (kept until the issue API answers), "not_resolved"
        (still being handled: its 回访 asks once it is resolved) or "dropped"."""


class MessageLimiter:
    """Message size and messages-per-minute limits per sender, so that one client cannot flood Rasa.
    Also counts other things per key in another window (`window` seconds): new chats per address."""

    def __init__(self, max_chars: int = 500, per_minute: int = 20, clock=time.monotonic, window: float = 60.0) -> None:
        self.max_chars = max_chars
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}

    def check(self, sender: str, text: str) -> str | None:
        """None when the message may pass, else the Chinese notice to show instead."""
        if (too_long := self.too_long(text)) is not None:
            return too_long
        now = self._clock()
        recent = self._recent.setdefault(sender, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return NOTICE_TOO_FAST
        recent.append(now)
        if len(self._recent) > 10_000:
            self._forget_idle(now)
        return None

    def too_long(self, text: str) -> str | None:
        """The notice for a message over the size limit (counted nowhere), else None."""
        return NOTICE_TOO_LONG.format(limit=self.max_chars) if len(text) > self.max_chars else None

    async def admit(self, sender: str, text: str) -> str | None:
        """`check`, awaitable: a limiter shared between gateways asks Redis (shared_message_limiter)."""
        return self.check(sender, text)

    async def close(self) -> None:
        """Nothing to release here; the shared limiter closes its Redis connection."""

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, q in self._recent.items() if not q or now - q[-1] >= self.window]:
            del self._recent[key]


class Router:
    """Owns conversation state; channels call it and subscribe to what happens afterwards."""

    def __init__(
        self,
        store: ConversationStore,
        bot: BotClient,
        tickets: TicketRater | None = None,
        limiter: MessageLimiter | None = None,
        events: LocalBus | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.tickets = tickets
        self.limiter = limiter or MessageLimiter()
        self._bot_failures: dict[str, int] = {}  # unanswered turns in a row, per conversation
        # Where published events go: this process's subscribers, and other gateways' (RedisBus).
        self.events = events or LocalBus()
        self.events.attach(self._deliver)
        self._board_listeners: list[Callable[[], None]] = []
        # Weak values: a lock lives while some coroutine holds or awaits it, then goes away.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._subscribers: dict[str, set[asyncio.Queue]] = {}
        self._watchers: set[asyncio.Queue] = set()

    # users ----------------------------------------------------------------------------------------

    async def handle_user_message(
        self, sender: str, text: str, channel: str = "web", metadata: dict[str, Any] | None = None
    ) -> list[dict]:
        """Route one user message; return what answers it right away (bot replies or notices).

        Messages an operator writes later arrive through `subscribe`. Notices about limits are
        returned but not stored: they concern the client, not the conversation.
        """
        metadata = dict(metadata or {})
        text = clean_text(text or "").strip()
        if not text:
            return [_notice(NOTICE_EMPTY)]
        spoken = None
        if channel == "voice" and len(text) > self.limiter.max_chars:
            # A caller who spoke for minutes cannot "send it in several messages": the transcript
            # keeps every word (an operator reads it), the bot gets what it can take of the turn.
            log.info("a voice turn of %d characters from %s: the bot gets the first %d", len(text), sender,
                     self.limiter.max_chars)
            spoken, text = text, text[:self.limiter.max_chars - 1] + "…"
        refused = await self.limiter.admit(sender, text)
        if refused:
            log.info("limit hit by %s: %s", sender, refused)
            return [_notice(refused)]
        async with self._lock(sender):
            conv = self._open(sender, channel, metadata.get("phone"))
            if metadata.get("payload") and metadata["payload"] not in self._offered_payloads(conv):
                # A payload is an intent with entities for Rasa ("/inform{...}"): only the quick replies
                # the bot itself just offered may be sent as one; anything else is the user's text.
                metadata.pop("payload")
            self._append(conv, "user", (spoken or text)[:VOICE_TRANSCRIPT_MAX], {"payload": metadata.get("payload")})
            if (conv.state == "waiting" and _STOPS_WAITING.search(text) and not _PRESSING.search(text)
                    and not _STILL_WANTS_PERSON.search(_STOPS_WAITING.sub("", text))):
                # (Impatience is no leaving: "等不了了，快点安排人工" keeps the place in the queue.)
                # Nobody may be there for a while (at night); the caller is never stuck in the queue.
                back = self.store.transition(conv.id, expect_states=("waiting",), state="bot", waiting_since=None)
                if back is not None:
                    log.info("%s left the queue", conv.id)
                    notice = self._append(back, "system", NOTICE_LEFT_QUEUE)
                    self._publish_state(back)
                    rest = _LEFT_OVER.sub("", _STOPS_WAITING.sub("", text))
                    if len(re.sub(r"[\W_]", "", rest)) < 3:
                        return [notice]  # nothing else said: the bot waits for what the caller wants
                    return [notice, *await self._ask_bot(back, as_words(rest), metadata)]
                conv = self._require(conv.id)  # claimed meanwhile: the operator answers
            if conv.state == "waiting":
                return [_notice(NOTICE_STILL_WAITING)]
            if conv.state == "operator":
                return []
            return await self._ask_bot(conv, metadata.get("payload") or as_words(text), metadata)

    async def rate(self, sender: str, score: int, comment: str = "") -> list[dict]:
        """End-of-chat satisfaction: kept with the conversation and passed on to its resolved tickets
        (those still being handled are rated by their 回访 once resolved: the user is told so)."""
        if not 1 <= int(score) <= 5:
            raise ValueError("score must be 1..5")
        async with self._lock(sender):
            if (earlier := self._require(sender)).state == "closed" and earlier.rating is not None:
                return []  # rated once for this close: a repeat stores and tells nobody anything
            # No query code in a comment: it goes on to the tickets, which their departments read.
            conv = self._transition(sender, state="closed", operator=None, waiting_since=None,
                                    rating=int(score), rating_comment=_comment(comment))
            replies = [self._append(conv, "system", NOTICE_RATED)]
            for ticket_id in conv.ticket_ids if self.tickets else []:
                try:
                    outcome = await self.tickets.rate(conv.id, ticket_id, conv.rating, conv.rating_comment)
                except Exception:  # a bug there must not lose the conversation's own rating
                    log.exception("could not pass the rating on to ticket %s", ticket_id)
                    continue
                notice = {"rated": NOTICE_RATED_TICKET, "pending": NOTICE_RATING_PENDING,
                          "not_resolved": NOTICE_RATING_AFTER_RESOLUTION}.get(outcome)
                if notice:
                    replies.append(self._append(conv, "system", notice.format(ticket_id=ticket_id)))
            self._publish_state(conv)
            return replies

    async def rate_ticket(self, sender: str, ticket_id: str, score: int, comment: str = "") -> str:
        """A rating of one ticket of this conversation (回访: the widget asks for it once the ticket is
        resolved). Only a ticket the conversation filed or proved (`ticket_ids`); UnknownConversation
        or KeyError otherwise. Returns the rater's outcome; the transcript says how it went."""
        if not 1 <= int(score) <= 5:
            raise ValueError("score must be 1..5")
        async with self._lock(sender):
            conv = self._require(sender)
            if ticket_id not in conv.ticket_ids or self.tickets is None:
                raise KeyError(ticket_id)
            try:
                said = _comment(comment, ticket_id)  # the department reads it
                outcome = await self.tickets.rate(conv.id, ticket_id, int(score), said)
            except Exception:  # reported to the user; the rating can be given again
                log.exception("could not rate ticket %s from %s", ticket_id, conv.id)
                outcome = "dropped"
            if outcome == "rated":
                notice = NOTICE_RATED_TICKET_REWORK if int(score) <= REWORK_MAX_SCORE else NOTICE_RATED_TICKET
            else:
                notice = {"pending": NOTICE_RATING_PENDING, "not_resolved": NOTICE_RATING_AFTER_RESOLUTION}.get(
                    outcome, NOTICE_TICKET_RATING_FAILED)
            self._append(conv, "system", notice.format(ticket_id=ticket_id), {"rated_ticket": ticket_id})
            return outcome

    # operators ------------------------------------------------------------------------------------

    async def claim(self, conversation_id: str, operator: str) -> Conversation:
        async with self._lock(conversation_id):
            conv = self._require(conversation_id)
            if conv.state == "operator" and conv.operator == operator:
                return conv
            # Conditional: of two operators claiming at once, on one gateway or two, one wins.
            claimed = self.store.transition(conversation_id, expect_states=("waiting",),
                                            state="operator", operator=operator)
            if claimed is None:
                conv = self._require(conversation_id)
                owner = f"（{conv.operator}）" if conv.operator else ""
                state = STATE_LABELS.get(conv.state, "已变化")
                raise ConversationConflict(f"该会话当前状态为“{state}”{owner}，无法接入")
            conv = claimed
            self._append(conv, "system", NOTICE_CLAIMED)
            self._publish_state(conv)
            log.info("%s claimed %s", operator, conversation_id)
            return conv

    async def operator_reply(self, conversation_id: str, operator: str, text: str) -> dict:
        text = clean_text(text or "").strip()
        if not text:
            raise ValueError("回复内容不能为空")
        if len(text) > 2000:
            raise ValueError("回复内容太长（最多2000字）")
        async with self._lock(conversation_id):
            conv = self._owned(conversation_id, operator)
            return self._append(conv, "operator", text, {"operator": operator})

    async def hand_back(self, conversation_id: str, operator: str) -> Conversation:
        async with self._lock(conversation_id):
            self._owned(conversation_id, operator)
            conv = self.store.transition(conversation_id, expect_states=("operator",), expect_operator=operator,
                                         state="bot", operator=None, waiting_since=None)
            if conv is None:  # closed or taken over meanwhile (through another gateway)
                self._owned(conversation_id, operator)
                raise ConversationConflict("该会话状态已变化，请刷新")
            self._append(conv, "system", NOTICE_HANDED_BACK)
            self._publish_state(conv)
            log.info("%s handed %s back to the bot", operator, conversation_id)
            await self._tell_bot_the_human_part(conv)
            left = self._unanswered(conv)
            if left is not None:
                await self._answer_left_over(conv, left)
            return self._require(conversation_id)

    async def close(self, conversation_id: str, operator: str) -> Conversation:
        async with self._lock(conversation_id):
            conv = self._require(conversation_id)
            if conv.state == "operator" and conv.operator != operator:
                raise ConversationConflict(f"该会话由{conv.operator}负责")
            if conv.state == "closed":
                return conv
            was_operator = conv.state == "operator"
            closed = self.store.transition(conversation_id, expect_states=("bot", "waiting", "operator"),
                                           expect_operator=operator, state="closed", operator=None,
                                           waiting_since=None, rating=None, rating_comment=None)
            if closed is None:
                conv = self._require(conversation_id)
                if conv.state == "closed":
                    return conv
                raise ConversationConflict(f"该会话由{conv.operator}负责")
            conv = closed
            self._append(conv, "system", NOTICE_CLOSED, {"rating_requested": True})
            self._publish_state(conv)
            if was_operator:
                await self._tell_bot_the_human_part(conv)
            return conv

    def add_ticket(self, conversation_id: str, ticket_id: str) -> None:
        """Link a ticket filed outside the bot (by an operator) to the conversation for rating."""
        conv = self._require(conversation_id)
        if ticket_id not in conv.ticket_ids:
            conv = self.store.add_tickets(conversation_id, [ticket_id]) or conv
            self._publish_state(conv)

    # reading and subscribing ----------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self.store.get(conversation_id)

    def history(self, conversation_id: str, after: int = 0, limit: int | None = None) -> list[dict]:
        return self.store.messages(conversation_id, after=after, limit=limit)

    def queue(self) -> list[dict]:
        """Escalated conversations, oldest wait first: what the console lists."""
        return [summary(conv) for conv in self.store.in_states(ACTIVE_STATES)]

    @contextlib.asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[asyncio.Queue]:
        """Events of one conversation: {"type": "message"|"state"|"typing", ...}, while inside."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._subscribers.setdefault(conversation_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(conversation_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[conversation_id]

    def on_board_changed(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever any gateway says the consoles' review and alert lists changed."""
        self._board_listeners.append(listener)

    def board_changed(self) -> None:
        """Tell every gateway (this one included) that review requests or alerts changed."""
        self._publish("", {"type": BOARD_CHANGED})

    def broadcast(self, event: dict) -> None:
        """An event for every console that is not about one conversation (review requests, alerts)."""
        for queue in list(self._watchers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("dropping a %s event for a slow console", event.get("type"))

    @property
    def watched(self) -> bool:
        """Whether some console is watching now."""
        return bool(self._watchers)

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[asyncio.Queue]:
        """Events of every conversation, for the operators' console."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=5000)
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

    # internals ------------------------------------------------------------------------------------

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    def _open(self, sender: str, channel: str, phone: str | None) -> Conversation:
        conv = self.store.get(sender)
        if conv is None:
            conv = self.store.create(sender, channel, phone)
            log.info("new %s conversation %s phone=%s", channel, sender, mask_phone(phone))
        changed = conv
        if phone and conv.phone != phone:
            changed = self._transition(sender, phone=phone)
        if changed.state == "closed":
            # A new message reopens a closed conversation with the bot (unless it was reopened meanwhile).
            changed = self.store.transition(sender, expect_states=("closed",), state="bot", operator=None,
                                            waiting_since=None) or self._require(sender)
        if changed is not conv:
            self._publish_state(changed)
        return changed

    async def _ask_bot(self, conv: Conversation, text: str, metadata: dict[str, Any], *,
                       outage_escalates: bool = True) -> list[dict]:
        """The bot's answer to `text`, appended and published. While the bot fails, a request for a
        person escalates (`outage_escalates`) rather than leaving the user with a notice."""
        self._publish(conv.id, {"type": "typing", "conversation_id": conv.id})
        metadata.setdefault("channel", conv.channel)
        if conv.phone:
            metadata.setdefault("phone", conv.phone)
        try:
            replies = await self.bot.send(conv.id, text, metadata)
        except BotUnavailable as exc:
            log.warning("bot unavailable for %s: %s", conv.id, exc)
            return self._bot_failed(conv, text, outage_escalates)
        out: list[dict] = []
        handoff = handoff_of(replies)
        # The tickets this conversation filed or proved (contract).
        new_tickets = [note.id for note in tickets_of(replies) if note.id not in conv.ticket_ids]
        if new_tickets:
            conv = self.store.add_tickets(conv.id, new_tickets) or conv
        for message in replies:
            custom = message.get("custom") if isinstance(message.get("custom"), dict) else None
            # A payload that only signals the handoff is for the router, not for the user's eyes.
            shown_custom = {k: v for k, v in (custom or {}).items() if k != HANDOFF} or None
            if message.get("text") or message.get("buttons") or message.get("image") or shown_custom:
                out.append(self._append(conv, "bot", message.get("text") or "", {
                    "buttons": message.get("buttons") or None,
                    "image": message.get("image"),
                    "custom": custom,
                }))
        if handoff is not None:
            out.append(self._escalate(conv, handoff))
        elif new_tickets:
            self._publish_state(conv)
        if not out:
            # Every turn of this bot says something; nothing means a step of it failed (the action
            # server unreachable, say). The user must not be left looking at silence.
            log.warning("the bot answered %s with nothing", conv.id)
            return self._bot_failed(conv, text, outage_escalates)
        self._bot_failures.pop(conv.id, None)
        return out

    async def _tell_bot_the_human_part(self, conv: Conversation) -> None:
        """The operator's words since the claim, and the conversation's latest ticket, into the bot's
        record (bot/rasa_plugins/operator_turns.py): the bot that takes over again knows what the
        user was told and which ticket the chat is now about (one the operator filed, say). The
        hand-back never waits on it failing: the transcript here keeps every word anyway."""
        record = getattr(self.bot, "record_operator_turns", None)
        if record is None:
            return
        said: list[str] = []
        for message in self.store.messages(conv.id):
            if message["role"] == "system" and is_claim_notice(message["text"]):
                said = []
            elif message["role"] == "operator" and message["text"]:
                said.append(message["text"])
        ticket_id = conv.ticket_ids[-1] if conv.ticket_ids else None
        if not said and ticket_id is None:
            return
        try:
            await record(conv.id, said[-OPERATOR_TURNS_KEPT:], ticket_id)
        except BotUnavailable as exc:
            log.warning("the bot did not take the operator's part of %s: %s", conv.id, exc)

    def _bot_failed(self, conv: Conversation, text: str, outage_escalates: bool) -> list[dict]:
        """A turn the bot did not answer. A request for a person reaches the queue without the bot
        (the way out we promise must work; 转人工 is a custom action, silent too when actions fail);
        after BOT_FAILURES_BEFORE_HANDOFF unanswered turns in a row the chat goes to the queue by
        itself, so that a caller is not told "try again" forever by a bot that stays broken for them."""
        failures = self._bot_failures[conv.id] = self._bot_failures.get(conv.id, 0) + 1
        if len(self._bot_failures) > 10_000:  # chats that failed once and left: forget the oldest
            for stale in list(self._bot_failures)[:5_000]:
                del self._bot_failures[stale]
        asked = _wants_human(text)
        if outage_escalates and (asked or failures >= BOT_FAILURES_BEFORE_HANDOFF):
            self._bot_failures.pop(conv.id, None)
            return [self._escalate(conv, self._outage_handoff(conv, asked))]
        return [self._append(conv, "system", NOTICE_BOT_DOWN)]

    def _unanswered(self, conv: Conversation) -> dict | None:
        """The user's latest message if it came while the operator had the chat and nobody answered it
        (no bot or operator message after it). What the user said before the operator took over is
        not asked again: that is what brought the chat to a person."""
        for message in reversed(self.store.messages(conv.id, limit=50)):
            if message["role"] == "user":
                return message
            answered = message["role"] in ("bot", "operator")
            if answered or (message["role"] == "system" and is_claim_notice(str(message.get("text") or ""))):
                return None
        return None

    async def _answer_left_over(self, conv: Conversation, message: dict) -> None:
        """A message the user sent while the operator still had the chat, just before handing it back,
        would otherwise be answered by nobody: the bot answers it now (inside the conversation's lock,
        so before anything the user writes next)."""
        log.info("the bot answers %s's message %s, left unanswered at hand back", conv.id, message.get("seq"))
        text = as_words(str(message.get("text") or ""))[:self.limiter.max_chars]
        try:
            # Not escalated by the router if the bot fails: "好的，谢谢客服" left at hand-back is no request
            # for a person, and the chat would bounce straight back to the queue.
            await self._ask_bot(conv, text, {"channel": conv.channel}, outage_escalates=False)
        except Exception:  # the hand back itself is done; the user can still write again
            log.exception("could not pass the left-over message of %s to the bot", conv.id)

    def _outage_handoff(self, conv: Conversation, asked: bool = True) -> dict:
        """The handoff the bot would have sent, made by the router while the bot cannot answer: the
        operator reads why it came and what the user last wrote (the bot's summary is missing)."""
        said = [mask_said(m["text"]) for m in self.store.messages(conv.id, limit=20) if m["role"] == "user"][-3:]
        summary_text = ("智能助手暂时无法回复，用户要求转人工客服。" if asked else
                        f"智能助手连续 {BOT_FAILURES_BEFORE_HANDOFF} 次未能回复，已自动转人工。")
        if said:
            summary_text += "用户最近的留言：" + " / ".join(text[:200] for text in said)
        return {"reason": OUTAGE_REASON, "summary": summary_text, "ticket_id": None}

    def _escalate(self, conv: Conversation, handoff: dict) -> dict:
        # Only a conversation the bot still answers waits for an operator (not one an operator took
        # meanwhile, through another gateway).
        conv = self.store.transition(
            conv.id, expect_states=("bot", "closed"), state="waiting", operator=None, waiting_since=time.time(),
            handoff_reason=str(handoff.get("reason") or "") or None,
            handoff_summary=str(handoff.get("summary") or "") or None,
        ) or self._require(conv.id)
        notice = self._append(conv, "system", NOTICE_WAITING)
        self._publish_state(conv)
        log.info("conversation %s escalated (%s)", conv.id, conv.handoff_reason)
        return notice

    def _offered_payloads(self, conv: Conversation) -> set[str]:
        """The payloads of the quick replies in the bot's latest message."""
        for message in reversed(self.store.messages(conv.id, limit=6)):
            if message["role"] == "bot":
                return {str(b.get("payload")) for b in message.get("buttons") or [] if isinstance(b, dict)}
        return set()

    def _transition(self, conversation_id: str, **changes: Any) -> Conversation:
        conv = self.store.transition(conversation_id, **changes)
        if conv is None:
            raise UnknownConversation(conversation_id)
        return conv

    def _require(self, conversation_id: str) -> Conversation:
        conv = self.store.get(conversation_id)
        if conv is None:
            raise UnknownConversation(conversation_id)
        return conv

    def _owned(self, conversation_id: str, operator: str) -> Conversation:
        conv = self._require(conversation_id)
        if conv.state == "closed":  # "claim it first" would send the operator to a button that cannot help
            raise ConversationConflict("会话已结束，无法继续操作")
        if conv.state != "operator" or conv.operator != operator:
            raise ConversationConflict("请先接入该会话" if conv.state != "operator" else f"该会话由{conv.operator}负责")
        return conv

    def _append(self, conv: Conversation, role: str, text: str, extra: dict | None = None) -> dict:
        message = self.store.append(conv.id, role, text, extra)
        conv.last_seq = message["seq"]
        self._publish(conv.id, {"type": "message", "conversation_id": conv.id, "message": message})
        return message

    def _publish_state(self, conv: Conversation) -> None:
        self._publish(conv.id, {
            "type": "state", "conversation_id": conv.id, "state": conv.state,
            "operator": conv.operator, "conversation": summary(conv),
        })

    def _publish(self, conversation_id: str, event: dict) -> None:
        self.events.publish(conversation_id, event)

    def _deliver(self, conversation_id: str, event: dict) -> None:
        """Hand an event to this process's subscribers of the conversation ("*": all) and watchers."""
        if event.get("type") == BOARD_CHANGED:
            for listener in list(self._board_listeners):
                listener()
            return
        if conversation_id == "*":
            queues = [q for subscribers in self._subscribers.values() for q in subscribers]
        else:
            queues = list(self._subscribers.get(conversation_id, ()))
        for queue in queues + list(self._watchers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled client loses live events, never blocks the others
                log.warning("dropping an event for a slow subscriber of %s", conversation_id)


def summary(conv: Conversation) -> dict:
    """What the console shows for a conversation in its queue."""
    return {
        "id": conv.id,
        "channel": conv.channel,
        "phone": conv.phone,
        "state": conv.state,
        "operator": conv.operator,
        "waiting_since": conv.waiting_since,
        "handoff_reason": conv.handoff_reason,
        "handoff_summary": conv.handoff_summary,
        "ticket_ids": list(conv.ticket_ids),
        "rating": conv.rating,
        "last_seq": conv.last_seq,
        "updated_at": conv.updated_at,
    }


_LEADING_SLASHES = re.compile(r"^[\s/／]+")  # "/ /greet", "/\u3000/greet": every slash in front goes


def as_words(text: str) -> str:
    """What a user typed, as words for the bot. Rasa reads a message that starts with "/" as an intent
    with entities ("/cancel_ticket{...}"): typed text must never pick its own intent, so leading slashes
    go (only the bot's own quick replies are sent as such, see `handle_user_message`). Markup and escapes
    go too: the bot would read them as words. Traditional characters become simplified, which the model
    was trained on. Nothing left is a "？", which the bot does not understand."""
    return _LEADING_SLASHES.sub("", in_simplified(without_markup(text))) or "？"


def _comment(comment: str, ticket_id: Optional[str] = None) -> str:
    """A rating comment as it may reach the tickets, whose departments read it: no query code, announced
    or bare (a comment has no other use for a number of a code's length)."""
    return without_proof(clean_text(comment or ""), ticket_id, bare_numbers=True)[:500]


# The claim notice as this version writes it, and as earlier ones did, with the operator's login name.
_CLAIM_NOTICE = re.compile(r"^人工客服(（[^）]{0,64}）)?已接入")


def is_claim_notice(text: str) -> bool:
    """Whether a transcript line says an operator took the chat over (in any version's wording)."""
    return text == NOTICE_CLAIMED or _CLAIM_NOTICE.match(text) is not None


def _wants_human(text: str) -> bool:
    """Whether a turn asks for a person (转人工, 人工客服, 找客服 …, or the 转人工 quick reply), read by the
    router itself for when the bot cannot."""
    return text.strip().startswith(_REQUEST_HUMAN_PAYLOAD) or bool(_WANTS_HUMAN.search(text))


def _notice(text: str) -> dict:
    return {"role": "system", "text": text, "transient": True}
