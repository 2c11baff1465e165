"""What an operator said while a conversation was theirs, written into the bot's own record of it.

While an operator has a conversation, the gateway sends the user's messages to nobody but the operator:
Rasa's tracker would otherwise go on as if the chat had stopped at the handoff. When the operator gives
the conversation back (or closes it), the gateway posts their words here, and the tracker gains them as
bot utterances marked `operator`, and the ticket the conversation is now about (one the operator filed
for the user, say) as `last_ticket_id`: "那个工单现在怎么样了" after the hand-back is then about that
ticket, and the proof is the issue API's as for any other (the ticket names this conversation).

Bot utterances do not enter the policies' features (only actions and user turns do), so the record
changes nothing of how the next turn is predicted; the user's own words during the human part stay in
the gateway's transcript, not here: a user turn without the NLU's reading of it would be.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

from rasa.shared.core.events import BotUttered, SlotSet

from contract.vocabulary import is_ticket_id

log = logging.getLogger(__name__)

MAX_TEXTS = 200  # operator messages of one human part (the gateway sends at most this many, the latest)
MAX_TEXT_CHARS = 2000  # as the console's own limit on one reply


class OperatorTurnsInvalid(ValueError):
    """A body this route does not take; the message says which part, for the structured 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OperatorTurns:
    sender: str
    texts: list[str]
    ticket_id: Optional[str]


def read_operator_turns(body: Any, max_sender_chars: int) -> OperatorTurns:
    """`{"sender": str, "texts": [str, ...], "ticket_id": "digits" or null}`, or OperatorTurnsInvalid."""
    if not isinstance(body, dict):
        raise OperatorTurnsInvalid("body_invalid", "请求内容应为 JSON 对象：{\"sender\", \"texts\", \"ticket_id\"}")
    sender, texts, ticket_id = body.get("sender"), body.get("texts", []), body.get("ticket_id")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > max_sender_chars:
        raise OperatorTurnsInvalid("sender_invalid", f"sender 应为 1 到 {max_sender_chars} 个字符的字符串")
    if (not isinstance(texts, list) or len(texts) > MAX_TEXTS
            or not all(isinstance(t, str) and len(t) <= MAX_TEXT_CHARS for t in texts)):
        raise OperatorTurnsInvalid("texts_invalid", f"texts 应为不超过 {MAX_TEXTS} 条、每条不超过 {MAX_TEXT_CHARS} 字的字符串列表")
    if ticket_id is not None and not is_ticket_id(ticket_id):
        raise OperatorTurnsInvalid("ticket_id_invalid", "ticket_id 应为 8 到 12 位数字或 null")
    return OperatorTurns(sender, [t for t in texts if t.strip()], ticket_id)


def operator_events(turns: OperatorTurns) -> list[Any]:
    events: list[Any] = [BotUttered(text, metadata={"operator": True}) for text in turns.texts]
    if turns.ticket_id:
        # The ticket of the human part comes first in the follow-ups (actions/followup.py reads
        # `ticket_id` before `last_ticket_id`); its proof is asked again like any other.
        events += [SlotSet("ticket_id", None), SlotSet("ticket_proved", None),
                   SlotSet("last_ticket_id", turns.ticket_id)]
    return events


async def record_operator_turns(agent: Any, turns: OperatorTurns) -> int:
    """Append the events under the conversation's lock, as Rasa's own `POST .../tracker/events` does,
    so that a turn of the same conversation running now is not overwritten or overwrites them."""
    events = operator_events(turns)
    if not events:
        return 0
    async with agent.lock_store.lock(turns.sender):
        tracker = await agent.processor.fetch_tracker_with_initial_session(turns.sender)
        for event in events:
            tracker.update(event, agent.domain)
        await agent.tracker_store.save(tracker)
    log.info("recorded %d operator message(s) in %s%s", len(turns.texts), turns.sender,
             " with its ticket" if turns.ticket_id else "")
    return len(turns.texts)
