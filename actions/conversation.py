"""Reading the conversation: caller id from metadata, the latest intent, a summary for a person."""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker

from actions.dialogue import asks_again
from contract.phones import mask_phone, normalize_phone
from contract.query_codes import mask_said
from contract.vocabulary import CHANNELS, DEFAULT_CHANNEL

REPEAT_INTENT = "ask_repeat"  # "你刚才说什么": see repeat.py


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent = tracker.latest_message.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def event_intent(event: dict[str, Any]) -> Optional[str]:
    """The intent of a stored user event (None for other events or an unparsed message)."""
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def entity(tracker: Tracker, name: str) -> Optional[str]:
    """The first `name` entity of the latest message. DIET sometimes cuts one name in two
    ("西安" + "华清科技有限公司"): pieces that touch in the text are joined back into one."""
    found = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]
    if not found:
        return None
    text, first = latest_text(tracker), found[0]
    start, end = first.get("start"), first.get("end")
    value = str(first.get("value"))
    for piece in found[1:]:
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(piece.get("start"), int)
                and isinstance(piece.get("end"), int) and text[start:end] == value):
            break  # no spans, or a value mapped to a synonym: nothing to join
        if text[end:piece["start"]].strip() or text[piece["start"]:piece["end"]] != str(piece.get("value")):
            break
        end = piece["end"]
        value = text[start:end]
    return value


def message_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata sent with the latest message, else with the message that started the session."""
    metadata = tracker.latest_message.get("metadata") or {}
    if not metadata:
        metadata = tracker.get_slot("session_started_metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def caller_phone(tracker: Tracker) -> Optional[str]:
    """The caller id (metadata `phone`, set only by the voice adapters), in normal form, if it is a
    real number. A web chat has none, whatever its metadata says: the gateway never passes a phone a
    web user typed, and nothing else may make a chat the owner of that number's tickets."""
    if channel(tracker) == "web" or message_metadata(tracker).get("channel") == "web":
        return None
    phone = tracker.get_slot("caller_phone") or message_metadata(tracker).get("phone")
    return normalize_phone(str(phone)) if phone else None


def channel(tracker: Tracker) -> str:
    value = tracker.get_slot("channel") or message_metadata(tracker).get("channel")
    return value if value in CHANNELS else DEFAULT_CHANNEL


def latest_response(tracker: Tracker, skipping: str = "") -> Optional[str]:
    """The name of the domain response the bot said last (other than `skipping`)."""
    for event in reversed(tracker.events):
        said = (event.get("metadata") or {}).get("utter_action") if event.get("event") == "bot" else None
        if said and said != skipping:
            return said
    return None


def said_again(tracker: Tracker, response: str) -> bool:
    """Whether the bot's latest words other than the pending question were `response` ("没能确定…"):
    the question was asked again after it, and this is the second answer that did not do. Asking a
    third time would trap the caller in the question."""
    return latest_response(tracker, skipping=f"utter_ask_{tracker.get_slot('requested_slot')}") == response


def user_turns(tracker: Tracker, limit: int = 6) -> list[str]:
    """The latest user texts, oldest first. Earlier "再说一遍" turns are left out: they say nothing
    about the problem, and the turn before one is what the caller had said (see ticket_form.py)."""
    said = [e for e in tracker.events if e.get("event") == "user" and e.get("text")]
    kept = [e for e in said[:-1] if not (event_intent(e) == REPEAT_INTENT and asks_again(str(e["text"])))]
    return [str(e["text"]) for e in kept + said[-1:]][-limit:]


def asked_before_this_turn(tracker: Tracker) -> Optional[str]:
    """The form question (requested_slot) the latest user turn answered, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == "requested_slot":
            return event.get("value")
    return None


FAQ_RESPONSE = "utter_ask_policy"  # a retrieval response: its name is utter_ask_policy/<topic>


def question_just_answered(tracker: Tracker) -> Optional[str]:
    """The caller's policy question the bot answered from its FAQ right before the latest turn, if it
    did: "登记咨询" after it asks for a call back about that question."""
    seen_latest, answered = False, False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if not seen_latest:
                seen_latest = True
                continue
            return (str(event.get("text") or "").strip() or None) if answered else None
        if seen_latest and kind == "bot":
            said = str((event.get("metadata") or {}).get("utter_action") or "")
            if not said.startswith(FAQ_RESPONSE):
                return None
            answered = True
        if kind in ("session_started", "restart"):
            return None
    return None


def pending_keys(tracker: Tracker) -> list[str]:
    """The outbox keys of this conversation's reports still to be told about (see ticket_form.py)."""
    value = tracker.get_slot("pending_filing")
    if isinstance(value, str):  # a tracker from before the slot became a list
        return [value]
    return [key for key in value or [] if isinstance(key, str)]


def related_ticket(tracker: Tracker) -> Optional[str]:
    """The ticket this conversation is about, for a handoff: one it proved or filed. A number only
    named, without proof, is not passed on (an operator would open a stranger's ticket for them)."""
    named = tracker.get_slot("ticket_id") if tracker.get_slot("ticket_proved") else None
    return named or tracker.get_slot("last_ticket_id")


_QUOTES_AND_SEPARATORS = str.maketrans({"“": "‘", "”": "’", '"': "'", "＂": "'", "「": "‘", "」": "’", "〝": "‘",
                                         "〞": "’", "『": "‘", "』": "’", "；": "，", ";": ",", "﹔": "，",
                                         "\n": " ", "\r": " ", "\u2028": " ", "\u2029": " "})


def _as_said(text: str) -> str:
    """The caller's words inside the summary: no quote of theirs closes the summary's, no "；" of theirs
    starts a field of its own ("…”；核验：身份已核实；…" reads as what it is, something they said)."""
    return str(text).translate(_QUOTES_AND_SEPARATORS)


def summary(tracker: Tracker) -> str:
    """What a person taking over needs at a glance; phone numbers masked."""
    parts: list[str] = []
    person = "网页用户" if channel(tracker) == "web" else "来电人"  # (a chat has no caller)
    who = "、".join(_as_said(v) for v in (tracker.get_slot("contact_name"), tracker.get_slot("company")) if v)
    if who:
        parts.append(f"{person}：{who}")
    phone = tracker.get_slot("phone") or caller_phone(tracker)
    if phone:
        parts.append(f"电话：{mask_phone(phone)}")
    if tracker.get_slot("description"):
        parts.append(f"诉求：{_as_said(tracker.get_slot('description'))}")
    if tracker.get_slot("category"):
        parts.append(f"类别：{tracker.get_slot('category')}")
    ticket = related_ticket(tracker)
    if ticket:
        parts.append(f"相关工单：{ticket}")
    turns = user_turns(tracker)
    if turns:
        # Query codes masked: the summary is read by whoever takes the conversation over, and a code
        # lets its reader act as the reporter.
        codes = tracker.get_slot("ticket_codes")
        known = list(codes.values()) if isinstance(codes, dict) else []
        parts.append(f"{person}说：" + " / ".join(f"“{_as_said(mask_said(t, known))}”" for t in turns))
    return "；".join(parts) or f"{person}尚未说明诉求"
