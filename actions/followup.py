"""Following up a filed ticket: look it up (by number, or by the caller id), prove the conversation is
the reporter's (actions/proof.py: caller id, the filing conversation, or the query code), then check,
urge, supplement, withdraw (after confirmation) and rate (five levels; 2 or less sends it back)."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.conversation import (REPEAT_INTENT, caller_phone, channel, latest_intent, latest_text, pending_keys,
                                  said_again, user_turns)
from actions.categories import names_a_problem
from actions.dialogue import after_digression, digression, leaves_followup, yes_or_no
from actions.handoff import handoff
from actions.proof import known_codes, proof_for, prove
from actions.spoken import clean, is_specific, rating_score, sounds_angry, states_a_score
from contract.issue_client import IssueApiError, ProofRequired, Refused
from contract.messages import ticket_payload
from contract.phones import find_phone, mask_phones_in_text
from contract.query_codes import without_proof
from contract.spoken_numbers import digits_in_speech, find_code, find_ticket_id
from contract.vocabulary import LONG_TEXT_MAX, OPEN_STATUSES, RATING_LABELS, SHORT_TEXT_MAX

log = logging.getLogger(__name__)

FORM = "followup_form"
OPERATIONS = {"check_ticket": "check", "urge_ticket": "urge", "supplement_ticket": "supplement",
              "cancel_ticket": "cancel", "rate_service": "rate"}
EXTRA_SLOT = {"supplement": "supplement_text", "cancel": "cancel_confirmed", "rate": "rating"}
RESOLVED = ("resolved",)
# A look-up asked for in words: a verb, or what a look-up tells. A score said in the same turn does
# not make it a rating.
_CHECK_VERB = re.compile(r"查")
_CHECK_NOUNS = re.compile(r"(进度|怎么样|咋样|到哪|结果|状态|办好了没|处理了没)")
_CHECKING = re.compile(f"{_CHECK_VERB.pattern}|{_CHECK_NOUNS.pattern}")
# A withdrawal in words (撒销: a common slip the NLU knows too).
_CANCEL_WORDS = re.compile(r"(撤销|撒销|撤回|撤了|取消)")
RESET = ["followup_op", "ticket_candidate", "ticket_choices", "supplement_text", "cancel_confirmed", "rating",
         "rating_confirmed", "query_code", "ticket_status", "requested_slot"]
# A score this low sends the ticket back to the department, which cannot be undone: it is read back
# and confirmed first (a misheard "不好意思，满意" must not reopen a finished ticket).
REWORK_MAX_SCORE = 2
# Operations a ticket's status already rules out, with what the caller is told instead of being asked
# what to add, whether to withdraw, or how to rate, only to hear no afterwards.
NOT_POSSIBLE: dict[str, dict[str, str]] = {
    "cancel": {"resolved": "utter_cancel_not_possible_resolved", "closed": "utter_cancel_not_possible_closed",
               "cancelled": "utter_already_cancelled"},
    "rate": {"received": "utter_rating_not_yet", "assigned": "utter_rating_not_yet", "in_progress": "utter_rating_not_yet",
             "closed": "utter_rating_already_given", "cancelled": "utter_rating_cancelled_ticket"},
    "supplement": {"resolved": "utter_supplement_not_possible_resolved", "closed": "utter_supplement_not_possible_closed",
                   "cancelled": "utter_already_cancelled"},
}
STOPPED = "stopped"  # the follow-up ended without an operation (no proof): nothing more to say
_NO_CODE = re.compile(r"(没有|没收到|不知道|忘了|忘记|记不得|记不住|记不清|不记得|想不起|找不到|找不着|没找到|没记)")
# "稍等，我找一下", "我看看": looking for the number.
_LOOKING = re.compile(r"(稍等|等一下|等等|等会|找一下|找找|翻一下|我看看|我看一下|我查一下)")
# Thanks or a plain "OK" where a number was asked for: the caller is done, not answering.
_DONE = re.compile(r"^((好的|好吧|知道了|明白了|了解了|OK|ok)[，,\s]*)?(谢谢|谢了|多谢|感谢)(你|您|你们)?[啊呀吧了。！!]*$"
                   r"|^(好的|好吧|知道了|明白了|了解了)[啊呀吧了。！!]*$")
# The caller gives up the follow-up: "算了", "不查了", "不用了".
_QUESTION = re.compile(r"(吗|么|能不能|可不可以|怎么|为什么|\?|？)")
_HESITATE = re.compile(r"(再想想|想一想|考虑一下|再考虑|先不|等等再说|回头再说)")
_STOP = re.compile(r"(算了|不查了|不用查|不催了|不用催|不评了|不评价了|不撤了|不补充了|不用了|不要了|不办了)")
# A supplement request said again, without anything to add: "补充工单", "我要再补充一下信息".
_ASKS_TO_ADD = r"(我们?)?还?(想|要|需要)?再?(给|帮我)?(补充|添加|追加)(说明)?"
_REQUEST_ONLY = re.compile(
    r"[，,。.\s：:]*" + _ASKS_TO_ADD + r"(一下|下|一些|几句|一点儿?|点)?"
    r"(\d*号?)?(工单|单子|材料|信息|情况|内容|说明)*(号|编号)?的?(内容|信息)?(一下)?[，,。.\s：:]*")
# The request in front of what is added: "再补充一下，联系电话换成…" is written as "联系电话换成…".
_LEAD_IN = re.compile("^" + _ASKS_TO_ADD + r"(一下|下|一点|几句)?[，,。：:\s]*((工单|单子)(编)?号?|信息|情况|内容)?"
                      r"[，,。：:\s]*(再?(加|添|补)(一条|一句|一点|几句))?[，,。：:\s]+")


def _without_lead_in(text: str) -> str:
    rest = _LEAD_IN.sub("", text, count=1)
    return rest if is_specific(rest) else text


_TRIGGERS = ("补充一下", "补充说明", "补充", "我想", "我要", "再", "一下", "情况", "信息", "工单", "单子",
             "给", "之前", "那个", "上次", "说明")


# Talk about which ticket, or about not knowing it: never what to add to the proposed one.
_NOT_CONTENT = re.compile(r"不是|不对|哪|工单|单子|编号|号码|这件|那件|记不|不记得|忘|稍等|找一下|找找|等一下|[吗?？]")
_PICKS_A_TICKET = re.compile(r"尾号\s*[\d零〇一二三四五六七八九幺两]{1,4}|第[一二三1-3][件个]|最新|最近|刚才|这件|那件")


def _supplement_in(text: str) -> Optional[str]:
    """The added information when it comes in the same breath: '补充一下 漏水的位置在三号楼'. The
    ticket number and a query code said with it are not part of it (the department reads it)."""
    said = without_proof(clean(text), find_ticket_id(text))
    rest = _PICKS_A_TICKET.sub("", said)  # "补充一下尾号零四的那个工单" names the ticket, adds nothing
    for word in _TRIGGERS:
        rest = rest.replace(word, "")
    rest = re.sub(r"[\d\s：:，,。]", "", rest)
    return said if 5 <= len(rest) and len(said) <= LONG_TEXT_MAX else None


def _written_text(tracker: Tracker, text: str, ticket_id: Optional[str]) -> str:
    """What goes on the ticket from the caller's words: never the proof that came with them."""
    return without_proof(text, ticket_id, known_codes(tracker).values())


def _next_slot(values: dict[str, Any], caller_known: bool) -> Optional[str]:
    op = values.get("followup_op") or "check"
    if op == STOPPED:
        return None
    if not values.get("ticket_id"):
        if op == "check" and caller_known:
            return None  # list the caller id's tickets
        return "ticket_id"
    if not values.get("ticket_proved"):
        return "query_code"
    extra = EXTRA_SLOT.get(op)
    if extra and values.get(extra) is None:
        return extra
    if op == "rate" and values.get("rating") is not None and float(values["rating"]) <= REWORK_MAX_SCORE \
            and values.get("rating_confirmed") is None:
        return "rating_confirmed"
    return None


class ValidateFollowupForm(Action):
    def name(self) -> str:
        return "validate_followup_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, confidence = latest_intent(tracker)
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        slots = ["followup_op", "ticket_id", "ticket_proved", "supplement_text", "cancel_confirmed", "rating",
                 "rating_confirmed"]
        current = {slot: tracker.get_slot(slot) for slot in slots}
        # Only the phone line's caller id lists tickets by phone: a number typed in the chat proves nothing.
        phone_known = caller_phone(tracker) is not None

        if requested and after_digression(tracker.events, FORM):
            return [SlotSet("requested_slot", _next_slot(current, phone_known))]
        if requested and sounds_angry(text):
            # A clearly angry caller goes to a person, not through another question.
            handoff(dispatcher, tracker, "angry")
            return [SlotSet("followup_op", STOPPED), SlotSet("requested_slot", None)]

        if requested and digression(intent, confidence, text,
                                    ("ask_policy", "request_human", "bot_challenge", "ask_repeat", "greet")):
            return []  # reject: rules answer the side question, then the form resumes
        if requested and leaves_followup(intent, confidence, text) and (
                requested in ("ticket_id", "query_code") or intent == "goodbye"):
            # Reject: a rule ends the follow-up and does what was asked (a new report, goodbye). A
            # supplement or a rating may well sound like a report ("不满意，问题根本没解决"): there
            # only a goodbye leaves.
            return []
        if requested in ("supplement_text", "rating") and (
                _STOP.search(clean(text)) or (requested == "supplement_text" and yes_or_no(intent, text) is False)):
            # "算了", "不补充了", "不评了": nothing is written to the ticket ("不满意" is a rating, not a no).
            dispatcher.utter_message(response="utter_followup_dropped")
            return [SlotSet("followup_op", STOPPED), SlotSet("requested_slot", None)]

        updates: dict[str, Any] = {}
        if requested is None:
            updates.update(self._opening(tracker, intent, text))
            if (not updates.get("ticket_id") and updates.get("followup_op") == "check" and _typed_phone(tracker, text)):
                # "我的电话是139…，查一下这个号码名下的工单" in a chat: a typed number proves nothing.
                dispatcher.utter_message(response="utter_no_lookup_by_phone_in_chat")
            if tracker.get_slot("pending_filing") and not find_ticket_id(text):
                # The latest report, made while the API was down, before any earlier ticket of the chat.
                pending = await self._pending_filing(dispatcher, tracker)
                if pending.get("followup_op") == STOPPED:
                    updates["ticket_id"] = None  # still waiting: nothing to look up, nothing to prove
                updates.update(pending)
            if updates.get("ticket_id") and "查询码" in text and (code := find_code(text.split("查询码", 1)[1])):
                # "查工单2612010005 查询码308567": the code comes with the number, no need to ask for it.
                updates.update(await prove(dispatcher, tracker, updates["ticket_id"], code))
        elif requested == "ticket_id":
            if intent in OPERATIONS:
                updates["followup_op"] = OPERATIONS[intent]
            updates.update(await self._ticket_answer(dispatcher, tracker, intent, text))
        elif requested == "query_code":
            updates.update(await self._code_answer(dispatcher, tracker, intent, confidence, text))
        elif requested == "supplement_text":
            said = _written_text(tracker, clean(text), tracker.get_slot("ticket_id"))
            if len(said) > LONG_TEXT_MAX:
                dispatcher.utter_message(response="utter_supplement_too_long")
                said = ""
            # Only what says something: a greeting, "好的" or the request said again ("补充工单2612020002")
            # is asked again, never written to the ticket.
            request_only = _REQUEST_ONLY.fullmatch(said) is not None
            updates["supplement_text"] = said if is_specific(said) and not request_only else None
            if updates["supplement_text"] is None and said and not request_only:
                dispatcher.utter_message(response="utter_supplement_not_understood")  # (a request: just asked again)
        elif requested == "cancel_confirmed":
            answer = yes_or_no(intent, text)
            if answer is None and intent == "cancel_ticket":
                answer = True
            if answer is None and (_STOP.search(clean(text)) or _HESITATE.search(text)):
                answer = False  # "我再想想": the ticket stays
            updates["cancel_confirmed"] = answer
        elif requested == "rating":
            updates["rating"] = rating_score(text)
            if updates["rating"] is None:
                dispatcher.utter_message(response="utter_rating_not_understood")
        elif requested == "rating_confirmed":
            updates.update(self._low_score_answer(dispatcher, tracker, intent, text))

        values = {**current, **updates}
        if values.get("ticket_id") and values.get("ticket_proved") is None and values.get("followup_op") != STOPPED:
            # A ticket named in this turn: does the conversation already prove it (caller id, the
            # filing conversation, a code given earlier)? Otherwise the query code is asked for.
            proved = await prove(dispatcher, tracker, values["ticket_id"])
            updates.update(proved)
            values.update(proved)
        ruled_out = NOT_POSSIBLE.get(values.get("followup_op") or "", {}).get(values.get("ticket_status") or "")
        if ruled_out and values.get("ticket_proved"):
            dispatcher.utter_message(response=ruled_out, ticket_number=replies.ticket_number(values["ticket_id"]))
            updates["followup_op"] = values["followup_op"] = STOPPED
        events: list[EventType] = [SlotSet(k, v) for k, v in updates.items()]
        events.append(SlotSet("requested_slot", _next_slot(values, phone_known)))
        return events

    @staticmethod
    async def _code_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, confidence: float,
                           text: str) -> dict[str, Any]:
        other = find_ticket_id(text)
        if other and other != tracker.get_slot("ticket_id"):
            # "那工单2612010006呢": another ticket instead of the code; its own proof is looked at next.
            # Named with an operation ("查一下工单2612010006的进度"), that operation is what is done to
            # it, never the one the code was asked for: a look-up must not end in a withdrawal.
            switched = {"ticket_id": other, "ticket_number": replies.ticket_number(other), "ticket_proved": None,
                        "query_code": None}
            op = named_operation(intent, confidence, text)
            if op and op != tracker.get_slot("followup_op"):
                switched.update(followup_op=op, supplement_text=None, cancel_confirmed=None, rating=None,
                                rating_confirmed=None)
            return switched
        code = find_code(text, ticket_id=tracker.get_slot("ticket_id"))  # its number said again is no code
        if code is None:
            if (yes_or_no(intent, text) is False or _NO_CODE.search(text) or _STOP.search(clean(text))
                    or intent == "thank" or said_again(tracker, "utter_query_code_not_understood")):
                dispatcher.utter_message(response="utter_no_query_code")
                return {"followup_op": STOPPED}
            op = OPERATIONS.get(intent)
            if op and confidence >= 0.5 and op != tracker.get_slot("followup_op") and not _QUESTION.search(text):
                return {"followup_op": op}  # "我要催办" instead of the code: the same ticket, the code asked again
            dispatcher.utter_message(response="utter_query_code_not_understood")
            # A slot must be set, or Rasa rejects the form and the turn falls to the fallback.
            return {"query_code": None}
        return await prove(dispatcher, tracker, tracker.get_slot("ticket_id"), code)

    @staticmethod
    def _low_score_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                          text: str) -> dict[str, Any]:
        """Yes: the low score stands. No: the score is asked again. Another score said instead
        ("不是，是四分"): that one, confirmed again if it is low too."""
        answer = yes_or_no(intent, text)
        score, current = rating_score(text), tracker.get_slot("rating")
        other = states_a_score(text) and score not in (None, current) and not _names_score(text, current)
        if answer is True and other and score > REWORK_MAX_SCORE:
            # "对 确实不满意 我本来还想给三分的": a yes, and a score that would not reopen it: asked again.
            dispatcher.utter_message(response="utter_rating_confirm_not_understood")
            return {"rating_confirmed": None}
        if answer is True and other:
            return {"rating": score, "rating_confirmed": None}  # "是的 打一分": another low score, read back
        if answer is True:  # "可以", "对，不满意", "对 就是两分 五分肯定不给": the score read back stands
            return {"rating_confirmed": True}
        if score is not None and score != current:
            return {"rating": score, "rating_confirmed": None}
        if answer is False:
            return {"rating": None, "rating_confirmed": None}
        if said_again(tracker, "utter_rating_confirm_not_understood"):
            dispatcher.utter_message(response="utter_followup_dropped")  # nothing is sent back for rework
            return {"followup_op": STOPPED}
        dispatcher.utter_message(response="utter_rating_confirm_not_understood")
        return {"rating_confirmed": None}

    @staticmethod
    async def _pending_filing(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """The reports this conversation made while the issue API was down: each ticket one became is
        said with its query code (the caller heard neither when reporting; this conversation filed
        them, which is proof enough), and the newest is looked up; or word that they still wait."""
        keys = pending_keys(tracker)
        outbox = runtime.outbox()
        filed, waiting = [], []
        for key in keys:
            entry = await runtime.blocking(outbox.get, key)
            if entry is not None and entry.ticket_id:
                filed.append((str(entry.ticket_id), entry.payload.get("query_code")))
            elif entry is not None and entry.status == "pending":
                waiting.append(key)  # (a report that could not be filed was said so then; a gone one is dropped)
        for ticket_id, code in filed:
            dispatcher.utter_message(response="utter_pending_filed", ticket_number=replies.ticket_number(ticket_id),
                                     query_code=code or "", json_message=ticket_payload(ticket_id, "checked"))
        if filed:
            ticket_id = filed[-1][0]
            codes = {**(tracker.get_slot("ticket_codes") or {}), **{t: c for t, c in filed if c}}
            return {"ticket_id": ticket_id, "ticket_number": replies.ticket_number(ticket_id),
                    "last_ticket_id": ticket_id, "pending_filing": waiting or None, "ticket_codes": codes}
        if waiting:
            dispatcher.utter_message(response="utter_filing_still_pending")
            return {"followup_op": STOPPED, "pending_filing": waiting}
        return {"pending_filing": None}

    @staticmethod
    def _opening(tracker: Tracker, intent: str, text: str) -> dict[str, Any]:
        op = OPERATIONS.get(intent, tracker.get_slot("followup_op") or "check")
        if op == "check" and "查询码" in text and (worded := _worded_operation(text)) not in (None, "check"):
            op = worded  # "撤销工单2612020007，查询码471534": the 查 of 查询码 asks for no look-up
        if op == "check" and states_a_score(text) and not _CHECKING.search(text.replace("查询码", "")):
            op = "rate"  # "工单号二六一二零二零零零二 五分": a rating the NLU heard as a ticket number
        values: dict[str, Any] = {"followup_op": op, "supplement_text": None, "cancel_confirmed": None,
                                  "rating": None, "ticket_candidate": None, "ticket_choices": None,
                                  "ticket_proved": None, "query_code": None}
        number = find_ticket_id(text)
        if number:
            values["ticket_id"] = number
            values["ticket_number"] = replies.ticket_number(number)
        elif tracker.get_slot("ticket_id"):
            values["ticket_id"] = tracker.get_slot("ticket_id")  # the ticket this conversation is about
        elif tracker.get_slot("last_ticket_id"):
            values["ticket_id"] = tracker.get_slot("last_ticket_id")
            values["ticket_number"] = replies.ticket_number(values["ticket_id"])
        if op == "supplement":
            values["supplement_text"] = _supplement_in(text)
        if op == "rate":
            values["rating"] = rating_score(text)
        return values

    @staticmethod
    async def _ticket_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                             text: str) -> dict[str, Any]:
        gave_phone = _gives_phone(text)
        number = find_ticket_id(text, allow_phone_like=not gave_phone)
        candidate = tracker.get_slot("ticket_candidate")
        rated: dict[str, Any] = {}
        if not number and candidate and tracker.get_slot("followup_op") == "rate" and yes_or_no(intent, text) is not False \
                and (yes_or_no(intent, text) is True or states_a_score(text) or rating_score(text) is not None):
            # "对 五颗星", "三分吧", "满意" at "是这一件吗？": the proposed ticket, rated in the same breath.
            score = rating_score(text)
            number, rated = candidate, ({"rating": score} if score is not None else {})
        if not number and candidate and yes_or_no(intent, text) is True:
            number = candidate
        if (not number and candidate and tracker.get_slot("followup_op") == "supplement" and intent != "deny"
                and yes_or_no(intent, text) is not False and not tracker.get_slot("supplement_text")
                and not _NOT_CONTENT.search(text) and (more := _supplement_in(text)) and len(clean(text)) >= 8):
            # "路灯是从南边数第三根和第四根都不亮" at "是这一件吗？": what to add, so that one it is.
            number, rated = candidate, {"supplement_text": more}
        if not number and tracker.get_slot("ticket_choices"):
            number = chosen_ticket(text, tracker.get_slot("ticket_choices"))  # "第二件", "最新那个", "尾号19的"
        if (not number and _LOOKING.search(text) and not _NO_CODE.search(text)
                and not said_again(tracker, "utter_take_your_time")):
            # "稍等，我找一下": the caller is looking for it; that is no miss (once: "找不到了" is a no).
            dispatcher.utter_message(response="utter_take_your_time")
            return {"ticket_id": None}
        if not number and gave_phone and _typed_phone(tracker, text):
            if said_again(tracker, "utter_no_lookup_by_phone_in_chat"):
                dispatcher.utter_message(response="utter_no_ticket_id")
                return {"followup_op": STOPPED, "ticket_id": None, "ticket_candidate": None}
            dispatcher.utter_message(response="utter_no_lookup_by_phone_in_chat")
            return {"ticket_id": None}
        if not number:
            said_no = yes_or_no(intent, text) is False
            if said_no and candidate:
                return {"ticket_candidate": None, "ticket_id": None}  # not that one: the number is asked for
            if (said_no or _STOP.search(clean(text)) or _NO_CODE.search(text) or _DONE.match(clean(text))
                    or intent == "thank" or said_again(tracker, "utter_ticket_id_not_understood")):
                # No number and none to propose: asking again would trap the caller in the question.
                dispatcher.utter_message(response="utter_no_ticket_id")
                return {"followup_op": STOPPED, "ticket_id": None, "ticket_candidate": None}
            dispatcher.utter_message(response="utter_ticket_id_not_understood")
            return {"ticket_id": None}
        # Whether it exists and whether this conversation may see it is checked next (prove()).
        return {"ticket_id": number, "ticket_number": replies.ticket_number(number), "ticket_candidate": None,
                "ticket_choices": None, "ticket_proved": None, **rated}


_PHONE_WORDS = re.compile(r"(电话|手机|号码名下|联系方式|来电号码)")


def _gives_phone(text: str) -> bool:
    """Whether the turn gives a phone number as one ("我的电话是13900001111"), not a ticket number."""
    return bool(_PHONE_WORDS.search(text)) and find_phone(text) is not None


def _typed_phone(tracker: Tracker, text: str) -> bool:
    """A phone given in a web chat, where it proves nothing (a call's caller id does)."""
    return channel(tracker) == "web" and caller_phone(tracker) is None and _gives_phone(text)


_OPERATION_WORDS = (("urge", re.compile(r"(催|督办|加急)")), ("cancel", _CANCEL_WORDS),
                    ("rate", re.compile(r"(评价|打分|评分)")), ("supplement", re.compile(r"补充")))


# Before an operation word: it is refused ("不用催了", "没必要撤销"), or done to the caller ("被取消了").
_NEGATED = re.compile(r"(不|别|没|勿|无需|不必|没必要|被)(需要|想要|打算|有|要|用|想|必|需)?再?$")
# Whether it was done is asked, not that it be done: "催办了吗", "评价过没有".
_ASKS_IF_DONE = re.compile(r"(了|过)(吗|么|没)")
def _said(pattern: "re.Pattern[str]", words: str) -> bool:
    """Whether `pattern` is said and not refused in `words`."""
    return any(not _NEGATED.search(words[max(0, m.start() - 6):m.start()]) for m in pattern.finditer(words))


def _worded_operation(text: str) -> Optional[str]:
    """The operation a turn names in words: one operation verb ("催一下进度" is an urge, "撤销，不用查了"
    a withdrawal), or a look-up ("查一下…", "进度怎么样", "催办了吗"); None for none, or for a verb
    beside a 查 ("查一下我催办的那件": the intent decides). Refused verbs ("不撤销了") name nothing,
    nor does the 查询 of 查询码."""
    words = text.replace("查询码", "")
    verbs = set() if _ASKS_IF_DONE.search(words) else {op for op, pattern in _OPERATION_WORDS if _said(pattern, words)}
    looks_up = _said(_CHECK_VERB, words)
    if len(verbs) == 1:
        return None if looks_up else verbs.pop()
    if not verbs and (looks_up or _CHECK_NOUNS.search(words) or _ASKS_IF_DONE.search(words)):
        return "check"
    return None


def named_operation(intent: str, confidence: float, text: str) -> Optional[str]:
    """What a turn asks to do to a ticket: in its words, or else in a confident intent; None when it
    asks for nothing ("那工单2612010006呢")."""
    worded = _worded_operation(text)
    if worded:
        return worded
    return OPERATIONS.get(intent) if confidence >= 0.5 else None


class RouteDetail(Action):
    """A detail said outside any question ("inform"). A ticket number in it ("2612 0100 17 怎么样了",
    typed the way the bot shows numbers) is about that ticket: the follow-up starts, for the operation
    its words name (a check otherwise). A problem in it is a report. Anything else: what can we do
    for you?"""

    def name(self) -> str:
        return "action_route_detail"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = latest_text(tracker)
        if not find_ticket_id(text):
            if names_a_problem(clean(text), runtime.settings().categories_file):
                # "我是启明星电子的孙丽，电话138…，三号楼前面的路灯全不亮了": a whole report in one
                # breath that the NLU took for a detail. Filing starts with all of it.
                return [FollowupAction("ticket_form")]
            noted = details_for_a_report(tracker, text)
            dispatcher.utter_message(response="utter_detail_noted" if noted else "utter_how_can_i_help")
            return [SlotSet(slot, value) for slot, value in noted.items()]
        return [SlotSet("followup_op", _worded_operation(text) or "check"), FollowupAction(FORM)]


# "我叫钱多多", "我是…公司的": the caller says who they are before what they want.
_CALLER_NAMED = re.compile(r"(我叫|我姓|联系人(是|叫)?|我的名字(是|叫)?)(?P<name>[\u4e00-\u9fa5]{2,4}?)(?=[，,。\s电手号]|$)")


def details_for_a_report(tracker: Tracker, text: str) -> dict[str, str]:
    """The contact details a detail said before any report gives (a phone, the caller's name), kept
    for the filing that follows, which then does not ask for them again."""
    noted: dict[str, str] = {}
    phone = find_phone(text)
    if phone and not tracker.get_slot("phone"):
        noted["phone"] = phone
    named = _CALLER_NAMED.search(clean(text))
    if named and not tracker.get_slot("contact_name"):
        noted["contact_name"] = named.group("name")
    return noted


def introduces_caller(text: str) -> bool:
    """"我叫钱多多", "电话13605781234": the caller says who they are, whatever the NLU made of it (a
    name such as 钱多多 reads like money talk to it)."""
    said = clean(text)
    if _CALLER_NAMED.search(said):
        return True
    phone = find_phone(said)
    return bool(phone) and len(re.sub(r"[\d\s\-+]|电话|手机|号码|我的|是|：|:|，|,", "", said)) <= 2


class OutOfScope(Action):
    """Something the hotline does not handle, unless it is the caller saying who they are before the
    report (kept for it, as a detail said anywhere else is)."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = latest_text(tracker)
        noted = details_for_a_report(tracker, text) if introduces_caller(text) else {}
        dispatcher.utter_message(response="utter_detail_noted" if noted else "utter_out_of_scope")
        return [SlotSet(slot, value) for slot, value in noted.items()]


class LeaveFollowup(Action):
    """The caller left the follow-up half-way (a new report, goodbye): forget its question, and a
    ticket named but never proved, so that nothing later (a handoff summary) carries it."""

    def name(self) -> str:
        return "action_leave_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SlotSet(slot, None) for slot in RESET]
        if not tracker.get_slot("ticket_proved"):
            events += [SlotSet("ticket_id", None), SlotSet("ticket_number", None), SlotSet("ticket_proved", None)]
        return events


class AskTicketId(Action):
    """Ask for the number; when the caller's phone (or, in a chat, this conversation) has exactly one
    fitting ticket, propose it. A chat whose filing turn was lost (the action server died after the
    outbox had the report) finds its ticket this way too."""

    def name(self) -> str:
        return "action_ask_ticket_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        phone = caller_phone(tracker)
        intent, confidence = latest_intent(tracker)
        # "没听清" after "是这一件吗？" is asked the same question again, not the next one.
        asked_again = digression(intent, confidence, latest_text(tracker), (REPEAT_INTENT,))
        if tracker.get_slot("ticket_candidate") is None or asked_again:
            client = runtime.client()
            lookup = (client.tickets_by_phone, phone) if phone else (client.tickets_of_conversation, tracker.sender_id)
            try:
                tickets = await runtime.blocking(*lookup, proof_for(tracker))
            except IssueApiError:
                tickets = []
            wanted = RESOLVED if tracker.get_slot("followup_op") == "rate" else OPEN_STATUSES
            fitting = [t for t in tickets if t.get("status") in wanted]
            if len(fitting) == 1:
                dispatcher.utter_message(response="utter_ask_ticket_candidate",
                                         ticket_number=replies.ticket_number(fitting[0]["id"]),
                                         description_start=replies.description_start(fitting[0]))
                return [SlotSet("ticket_candidate", str(fitting[0]["id"])), SlotSet("ticket_choices", None)]
            if tickets and not fitting:
                # "帮我撤销一下工单" with only a finished ticket on file: said, rather than a number asked
                # for that the caller does not have.
                dispatcher.utter_message(response="utter_no_fitting_ticket", count=len(tickets))
            newest_first = sorted(fitting, key=lambda t: int(t["id"]), reverse=True)
            named = chosen_ticket(latest_text(tracker), [str(t["id"]) for t in newest_first]) \
                if len(fitting) > 1 and not asked_again else None
            if named:
                # "最新的那个工单帮我催一下", "催一下尾号06的": the one the request named, confirmed first.
                ticket = next(t for t in fitting if str(t["id"]) == named)
                dispatcher.utter_message(response="utter_ask_ticket_named", ticket_number=replies.ticket_number(named),
                                         description_start=replies.description_start(ticket))
                return [SlotSet("ticket_candidate", named), SlotSet("ticket_choices", None)]
            if 1 < len(fitting) <= len(ORDINALS):
                # A few: read out newest first, the caller says which ("第二件", "最新那个").
                choices = "；".join(f"{ORDINALS[i]}件 {replies.ticket_number(t['id'])}（{replies.description_start(t)}）"
                                   for i, t in enumerate(newest_first))
                dispatcher.utter_message(response="utter_ask_ticket_choice", count=len(fitting), choices=choices)
                return [SlotSet("ticket_candidate", None),
                        SlotSet("ticket_choices", [str(t["id"]) for t in newest_first])]
        dispatcher.utter_message(response="utter_ask_ticket_id")
        return [SlotSet("ticket_candidate", None), SlotSet("ticket_choices", None)]


ORDINALS = ("第一", "第二", "第三")  # how many tickets are read out to choose from, at most
_ORDINAL_SAID = [re.compile(r"第(一|1|幺)(?![\d十])|头一|最新|最近|新的那|刚(才|刚)?(报|登记)的"),
                 re.compile(r"第(二|2|两)(?![\d十])"), re.compile(r"第(三|3)(?![\d十])")]
_OLDEST_SAID = re.compile(r"最早|以前|之前|早的那|老的那|前面那|上次|最后(一|那)")
_ENDING_SAID = re.compile(r"(尾号|最后几位|后几位|结尾(是)?)\s*(?P<digits>\d{2,4})")


_SCORE_NUMERALS = {1: "1一壹", 2: "2二两贰", 3: "3三叁", 4: "4四肆", 5: "5五伍"}


def _names_score(text: str, score: Optional[int]) -> bool:
    """Whether the text says this score in so many words ("就是两分", "2分")."""
    numerals = _SCORE_NUMERALS.get(score or 0)
    return bool(numerals) and re.search(rf"(?<![\d一二两三四五十])[{numerals}]\s*(个\s*)?(分|星)", text) is not None


def chosen_ticket(text: str, choices: list[str]) -> Optional[str]:
    """Which of the tickets read out (newest first) the caller means: by its place in the list, as the
    newest or the oldest, or by the last digits of its number; None if it is not clear."""
    said = digits_in_speech(clean(text))
    ending = _ENDING_SAID.search(said)
    if ending:
        fitting = [c for c in choices if c.endswith(ending.group("digits"))]
        return fitting[0] if len(fitting) == 1 else None
    places = [i for i, pattern in enumerate(_ORDINAL_SAID) if pattern.search(said) and i < len(choices)]
    if _OLDEST_SAID.search(said):
        places.append(len(choices) - 1)
    return choices[places[0]] if len(set(places)) == 1 else None


def minutes_since_urged(ticket: dict[str, Any], interval_minutes: float,
                        now: Optional[dt.datetime] = None) -> Optional[float]:
    """How many minutes ago the ticket was last urged, when that is within `interval_minutes`; else
    None (never urged, long ago, or a time this clock cannot place: then the urge is sent)."""
    if interval_minutes <= 0:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    for event in reversed(ticket.get("history") or []):
        if isinstance(event, dict) and event.get("action") == "urged":
            try:
                at = dt.datetime.fromisoformat(str(event.get("at")))
            except ValueError:
                return None
            if at.tzinfo is None:
                return None
            minutes = (now - at).total_seconds() / 60
            if -2 < minutes < 0:
                minutes = 0.0  # two machines' clocks a little apart
            return minutes if 0 <= minutes < interval_minutes else None
    return None


# The request itself, around the reason a caller gives for withdrawing: "这个工单撤销吧，下水道已经通了".
_CANCEL_REQUEST = re.compile(r"(我们?|麻烦|请|帮我|你)?(想|要|需要)?(把)?(这个|那个|这件|那件)?(工单|单子)?(号)?"
                             + _CANCEL_WORDS.pattern + r"(掉)?(一下|吧|了|吗)?(这个|那个)?(工单|单子)?")


def cancel_reason(tracker: Tracker, ticket_id: Optional[str]) -> str:
    """Why the caller withdraws, in their words when they gave a reason with the request (the
    department reads it); else that the reporter asked."""
    codes = known_codes(tracker).values()
    for said in reversed(_turns_of_this(tracker, "cancel")):  # the latest that says why ("是的撤销" does not)
        named = find_ticket_id(said)
        if named and named != ticket_id:
            continue  # (another ticket's withdrawal and its reason are that ticket's)
        if not _CANCEL_WORDS.search(said) and not _BECAUSE.search(said):
            continue  # ("确定": no reason; "已经修好了" at "确认要撤销吗？": one)
        reason = _CANCEL_REQUEST.sub("", without_proof(clean(said), ticket_id, codes))
        reason = _LONG_NUMBER.sub("", reason).strip(" ，,。.；;：:、！!")  # no phone or other number in it
        reason = _TICKET_WORD.sub("", reason)  # ("工单  已经办下来了": the number was taken out of it)
        if _ONLY_A_REFERENCE.fullmatch(reason):
            continue  # "电梯那个工单": which ticket, not why
        if is_specific(reason):
            return f"来电人申请撤销：{reason}"[:200]
    return "来电人申请撤销"


_LONG_NUMBER = re.compile(r"\+?\d[\d\s-]{5,}\d")
_BECAUSE = re.compile(r"已经|好了|解决|修好|不需要|不用|自己|重复|搞错|报错|没事了|通了|恢复")
_ONLY_A_REFERENCE = re.compile(r"[^，,。\s]{0,8}?(那个|这个|那件|这件)?(工单|单子|事|问题)(的)?")
_TICKET_WORD = re.compile(r"^(这个|那个)?(工单|单子)(编?号)?[\s，,：:]*")


# Asking to rate, and nothing else: "我要评价", "我想对办结的工单评价一下".
_RATE_REQUEST = re.compile(r"评价|评个价|评一下|评分|打分|打个分|满意度|回访|好评|差评|工单|单子|办结|办完|处理结果|做个|"
                           r"对|给|上次|这次|刚才|刚刚|你们|服务")


def rating_comment(tracker: Tracker, ticket_id: str, score: int) -> str:
    """The words that gave the score (not the "是的" that confirmed it), after what the caller said
    when asking to rate if that said why ("说是修好了，可是路灯晚上还是不亮；不满意"): the department
    that gets the ticket back reads what is still wrong. No code-like number."""
    turns = _turns_of_this(tracker, "rate", fallback=False)
    said = next((t for t in reversed(turns or user_turns(tracker)) if rating_score(t) == score), latest_text(tracker))
    codes = known_codes(tracker).values()
    comment = mask_phones_in_text(without_proof(said, ticket_id, codes, bare_numbers=True))
    opening = mask_phones_in_text(without_proof(turns[0], ticket_id, codes, bare_numbers=True)) if turns else ""
    if turns and turns[0] != said and rating_score(turns[0]) is None and is_specific(_RATE_REQUEST.sub("", opening)):
        comment = f"{opening.rstrip('，,。.；;！!')}；{comment}" if comment else opening
    return comment[:SHORT_TEXT_MAX]


def _turns_of_this(tracker: Tracker, op: str, fallback: bool = True) -> list[str]:
    """The user turns since the follow-up became `op` (the turn that asked for it included); when it
    never did, the latest three (`fallback`) or none."""
    events = tracker.events
    started = max((i for i, e in enumerate(events) if e.get("event") == "slot" and e.get("name") == "followup_op"
                   and e.get("value") == op), default=None)
    if started is None:
        return user_turns(tracker, limit=3) if fallback else []
    asked = max((i for i, e in enumerate(events[:started]) if e.get("event") == "user"), default=started)
    return [str(e["text"]) for e in events[asked:] if e.get("event") == "user" and e.get("text")]


def action_key(tracker: Tracker, op: str) -> str:
    """One key per conversation turn and operation: a repeated action is applied once."""
    turn = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    raw = f"{tracker.sender_id}|{turn.get('timestamp')}|{op}"
    return f"rasa-{op}-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


class Followup(Action):
    def name(self) -> str:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        op = tracker.get_slot("followup_op") or "check"
        ticket_id = tracker.get_slot("ticket_id")
        if op == STOPPED:
            return [SlotSet(slot, None) for slot in RESET]
        client = runtime.client()
        key = action_key(tracker, op)
        number = replies.ticket_number(ticket_id)
        proof = proof_for(tracker, ticket_id)
        try:
            if not ticket_id:
                await self._list_by_phone(dispatcher, tracker)
            elif op == "check":
                ticket = await runtime.blocking(client.get_ticket, ticket_id, proof)
                replies.say_status(dispatcher, ticket, json_message=ticket_payload(ticket_id, "checked"))
            elif op == "urge":
                ticket = await runtime.blocking(client.get_ticket, ticket_id, proof)
                minutes = minutes_since_urged(ticket, runtime.settings().urge_interval_minutes)
                if minutes is None or ticket.get("status") not in OPEN_STATUSES:
                    # (a finished ticket is refused with what to do instead, never "urged just now")
                    await runtime.blocking(client.urge, ticket_id, "来电人催办", key, proof)
                    ticket = await runtime.blocking(client.get_ticket, ticket_id, proof)
                    dispatcher.utter_message(response="utter_urged", ticket_number=number,
                                             json_message=ticket_payload(ticket_id, "urged"))
                else:  # the department was just reminded: once is heard, four times a minute is noise
                    dispatcher.utter_message(response="utter_urged_just_now" if minutes < 1 else "utter_urged_recently",
                                             ticket_number=number, minutes=round(minutes),
                                             json_message=ticket_payload(ticket_id, "checked"))
                replies.say_status(dispatcher, ticket)
            elif op == "supplement":
                text = _without_lead_in(_written_text(tracker, tracker.get_slot("supplement_text") or "", ticket_id))
                await runtime.blocking(client.supplement, ticket_id, text, key, proof)
                dispatcher.utter_message(response="utter_supplemented", ticket_number=number,
                                         json_message=ticket_payload(ticket_id, "supplemented"))
            elif op == "cancel":
                if tracker.get_slot("cancel_confirmed"):
                    await runtime.blocking(client.cancel, ticket_id, cancel_reason(tracker, ticket_id), key, proof)
                    dispatcher.utter_message(response="utter_cancelled", ticket_number=number,
                                             json_message=ticket_payload(ticket_id, "cancelled"))
                else:
                    dispatcher.utter_message(response="utter_cancel_kept")
            elif op == "rate":
                score = int(tracker.get_slot("rating"))
                if score <= REWORK_MAX_SCORE and tracker.get_slot("rating_confirmed") is not True:
                    dispatcher.utter_message(response="utter_followup_dropped")  # never sent back unconfirmed
                    return [SlotSet(slot, None) for slot in RESET]
                comment = rating_comment(tracker, ticket_id, score)
                await runtime.blocking(client.rate, ticket_id, score, comment, key, proof, channel(tracker))
                dispatcher.utter_message(response="utter_rated_low" if score <= REWORK_MAX_SCORE else "utter_rated",
                                         score=score, score_label=RATING_LABELS[score],
                                         json_message=ticket_payload(ticket_id, "rated"))
        except Refused as exc:
            reason = replies.api_reason(exc.message)  # the API's own sentence
            if not reason:
                dispatcher.utter_message(response="utter_action_refused_generic")
            elif op == "rate":
                dispatcher.utter_message(response="utter_rating_refused", reason=reason)
            elif op == "cancel":
                dispatcher.utter_message(response="utter_cancel_refused", reason=reason)
            else:
                replies.say_issue_error(dispatcher, exc)
        except ProofRequired:
            dispatcher.utter_message(response="utter_no_query_code")  # the API's own check said no
        except IssueApiError as exc:
            replies.say_issue_error(dispatcher, exc)
        return [SlotSet(slot, None) for slot in RESET]

    @staticmethod
    async def _list_by_phone(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """The caller id's tickets (only a caller id lists them; see _next_slot)."""
        phone = caller_phone(tracker)
        tickets = await runtime.blocking(runtime.client().tickets_by_phone, phone, proof_for(tracker))
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets_by_phone")
            return
        dispatcher.utter_message(response="utter_tickets_found_by_phone", count=len(tickets))
        for ticket in tickets[:3]:
            replies.say_status(dispatcher, ticket, json_message=ticket_payload(str(ticket["id"]), "checked"))
        if len(tickets) > 3:
            dispatcher.utter_message(response="utter_more_tickets", count=len(tickets) - 3)

