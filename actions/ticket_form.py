"""Filing a ticket: the form's validation (with corrections and the caller's own first report),
its questions, the read-back, and the submission through the outbox.

Supply/demand and intermediary-service requests use the same form (request_type) and are filed as
kind `help`, category 其他, the description prefixed 【供需发布】/【中介超市】, so that the
platform's staff see and act on them in the same queue as every other request.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.categories import category_from_answer, infer_category
from actions.conversation import caller_phone, channel, entity, latest_intent, latest_text
from actions.dialogue import after_digression, digression, leaves_filing, yes_or_no
from actions.handoff import handoff
from actions.issue_client import ApiUnavailable, Invalid, IssueApiError
from actions.masking import mask_phone
from actions.spoken import (
    clean, company_name, corrections, find_phone, is_specific, person_name, read_phone, request_kind,
    sounds_angry,
)

log = logging.getLogger(__name__)

FORM = "ticket_form"
ORDER = ["description", "category", "company", "contact_name", "phone", "ticket_confirmed"]
REQUEST_TYPES = {"report_problem": "problem", "supply_demand": "supply_demand",
                 "intermediary_service": "intermediary"}
PREFIX = {"supply_demand": "【供需发布】", "intermediary": "【中介超市】"}
LABELS = {"company": "单位名称", "contact_name": "联系人", "phone": "联系电话", "category": "类别",
          "description": "问题描述"}
DECLINED = "declined"


def _next_slot(values: dict[str, Any]) -> Optional[str]:
    for slot in ORDER:
        if slot == "ticket_confirmed":
            return None if values.get(slot) is True else slot
        if not values.get(slot):
            return slot
    return None


def _fresh_values(tracker: Tracker, intent: str, text: str) -> dict[str, Any]:
    """Everything the turn that opened the form already tells us."""
    settings = runtime.settings()
    request_type = REQUEST_TYPES.get(intent, "problem")
    said = clean(text)
    values: dict[str, Any] = {
        "request_type": request_type,
        "ticket_confirmed": None,
        "description": said if intent in REQUEST_TYPES and is_specific(said) else None,
        "location": entity(tracker, "location"),
    }
    if request_type == "problem":
        values["kind"] = request_kind(text)
        named = entity(tracker, "category")
        values["category"] = named if named in _labels() else infer_category(text, settings.categories_file)
    else:
        values["kind"], values["category"] = "help", "其他"
    for slot, ent in (("company", "company"), ("contact_name", "person")):
        if entity(tracker, ent):
            values[slot] = entity(tracker, ent)
    phone = find_phone(text)
    if phone:
        values["phone"] = phone
    caller = caller_phone(tracker)
    if caller:
        values["caller_phone"] = caller
        if not tracker.get_slot("phone") and not phone:
            values["phone_offer"] = caller
    values["channel"] = channel(tracker)
    return values


def _labels() -> tuple[str, ...]:
    from actions.categories import LABELS as CATEGORY_LABELS
    return CATEGORY_LABELS


class ValidateTicketForm(Action):
    """Custom extraction + validation for every slot of ticket_form (all slots use custom mappings)."""

    def name(self) -> str:
        return "validate_ticket_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, confidence = latest_intent(tracker)
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        current = {slot: tracker.get_slot(slot) for slot in ORDER}

        if sounds_angry(text) and not after_digression(tracker.events, FORM):
            # A clearly angry caller goes to a person with what was said so far, not through a form.
            handoff(dispatcher, tracker, "angry")
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", None)]
        if requested is None:  # the form is being opened by this turn
            updates = _fresh_values(tracker, intent, text)
        elif after_digression(tracker.events, FORM):
            return [SlotSet("requested_slot", _next_slot(current))]
        elif digression(intent, confidence, text):
            return []  # reject: rules answer the side question, then the form resumes
        elif leaves_filing(intent, confidence, text, requested):
            return []  # reject: rules stop this filing and do what the caller now asks
        else:
            updates = self._answer(dispatcher, tracker, requested, intent, text)

        values = {**current, **updates}
        events: list[EventType] = [SlotSet(slot, value) for slot, value in updates.items()]
        events.append(SlotSet("requested_slot", _next_slot(values)))
        return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str,
                intent: str, text: str) -> dict[str, Any]:
        """Interpret the caller's turn as the answer to `requested`, or as a correction."""
        settings = runtime.settings()
        updates: dict[str, Any] = dict(corrections(text, requested))
        for slot, value in updates.items():
            shown = read_phone(value) if slot == "phone" else value
            dispatcher.utter_message(text=f"好的，{LABELS[slot]}改为{shown}。")
        if updates:
            return updates  # a correction is the whole turn; the pending question is asked again
        said = clean(text)

        if requested == "description":
            if is_specific(said):
                updates["description"] = said
                if not tracker.get_slot("category"):
                    updates["category"] = infer_category(said, settings.categories_file)
                if tracker.get_slot("request_type") in (None, "problem"):
                    updates["kind"] = request_kind(said)
            else:
                updates["description"] = None
        elif requested == "category":
            found = entity(tracker, "category")
            updates["category"] = found if found in _labels() else category_from_answer(
                said, settings.categories_file)
            if not updates["category"]:
                dispatcher.utter_message(text="抱歉，没听清属于哪一类。")
        elif requested == "company":
            updates["company"] = entity(tracker, "company") or company_name(said)
            if not updates["company"]:
                dispatcher.utter_message(text="单位名称没听清楚。")
        elif requested == "contact_name":
            updates["contact_name"] = entity(tracker, "person") or person_name(said)
            if not updates["contact_name"]:
                dispatcher.utter_message(text="没听清您的姓名。")
        elif requested == "phone":
            updates.update(self._phone_answer(dispatcher, tracker, intent, said))
        elif requested == "ticket_confirmed" and not updates:
            answer = yes_or_no(intent, said)
            updates["ticket_confirmed"] = True if answer else None
        return updates

    @staticmethod
    def _phone_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                      said: str) -> dict[str, Any]:
        number = find_phone(said)
        if number:
            return {"phone": number}
        offer = tracker.get_slot("phone_offer")
        answer = yes_or_no(intent, said)
        if offer and offer != DECLINED and answer is True:
            return {"phone": offer}
        if answer is False:
            return {"phone": None, "phone_offer": DECLINED}
        dispatcher.utter_message(text="这个号码好像不完整，手机号是11位，座机请带区号。")
        return {"phone": None}


class AskDescription(Action):
    def name(self) -> str:
        return "action_ask_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        request_type = tracker.get_slot("request_type")
        if request_type == "supply_demand":
            text = "好的，我帮您登记到“供需发布”。请说一下您要发布的供应或需求：什么产品或服务、大概数量、希望怎么合作。"
        elif request_type == "intermediary":
            text = "好的，我帮您在“中介超市”登记需求。请说一下需要哪类中介服务，比如审计、法律、专利代理、环评，以及大概的要求。"
        elif latest_intent(tracker)[0] not in REQUEST_TYPES:
            text = "还需要您具体说一下：是什么问题、发生在哪里、影响有多大？"
        else:
            text = "好的，请您具体说说遇到了什么问题，在哪里，影响有多大。"
        dispatcher.utter_message(text=text)
        return []


class AskCategory(Action):
    def name(self) -> str:
        return "action_ask_category"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(
            text="这件事属于哪一类呢？比如供水供电供气、用地规划、审批办证、税费政策、融资金融、人才落户、"
                 "市政设施、环境噪音、物业园区、网络通信、安全消防，都不是的话说“其他”。")
        return []


class AskCompany(Action):
    def name(self) -> str:
        return "action_ask_company"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text="请问您的单位或公司名称是什么？")
        return []


class AskContactName(Action):
    def name(self) -> str:
        return "action_ask_contact_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text="请问怎么称呼您？说一下联系人姓名就行。")
        return []


class AskPhone(Action):
    def name(self) -> str:
        return "action_ask_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        offer = tracker.get_slot("phone_offer")
        if offer and offer != DECLINED:
            dispatcher.utter_message(
                text=f"联系电话就用您现在的来电号码 {read_phone(offer)} 吗？不是的话请直接说新的号码。")
        else:
            dispatcher.utter_message(text="请留一个联系电话，方便承办部门联系您。")
        return []


class AskTicketConfirmed(Action):
    """Read everything back before filing; after a plain 'no', ask what to change instead."""

    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        if (tracker.get_slot("requested_slot") == "ticket_confirmed"
                and yes_or_no(intent, clean(text)) is False
                and not corrections(text, "ticket_confirmed")):
            dispatcher.utter_message(
                text="请问哪一项需要修改？直接说正确的内容就行，比如“电话是13800000000”或“公司名是某某科技”。")
            return []
        slot = tracker.get_slot
        kind = {"supply_demand": "供需发布", "intermediary": "中介超市"}.get(slot("request_type"))
        what = f"登记类型{kind}，" if kind else f"类别{slot('category')}，"
        location = f"地点{slot('location')}，" if slot("location") else ""
        dispatcher.utter_message(
            text=f"我核对一下：单位是{slot('company')}，联系人{slot('contact_name')}，"
                 f"电话{read_phone(slot('phone') or '')}，{what}{location}内容是：{slot('description')}。"
                 f"信息都对吗？对的话我就提交了。")
        return []


def submission_key(tracker: Tracker) -> str:
    """Same conversation + same confirming turn -> same key, so a repeated action files nothing new."""
    confirming = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    raw = f"{tracker.sender_id}|{confirming.get('timestamp')}|{tracker.get_slot('description')}"
    return "rasa-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def ticket_payload(tracker: Tracker) -> dict[str, Any]:
    slot = tracker.get_slot
    payload = {
        "company": slot("company"),
        "contact_name": slot("contact_name"),
        "phone": slot("phone"),
        "category": slot("category") or "其他",
        "description": PREFIX.get(slot("request_type") or "", "") + str(slot("description") or ""),
        "kind": slot("kind") or "help",
        "channel": channel(tracker),
        "conversation_id": tracker.sender_id,
    }
    if slot("location"):
        payload["location"] = slot("location")
    return payload


RESET_AFTER_FILING = ["description", "category", "kind", "location", "ticket_confirmed",
                      "request_type", "requested_slot"]


class SubmitTicket(Action):
    """File through the outbox: written down first, then sent; an outage never loses the report."""

    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("ticket_confirmed") is not True:
            return []
        payload, key = ticket_payload(tracker), submission_key(tracker)
        outbox, client = runtime.outbox(), runtime.client()
        await runtime.blocking(outbox.add, key, payload, 120.0)
        try:
            ticket = await runtime.blocking(client.create_ticket, payload, key)
        except Invalid as exc:
            await runtime.blocking(outbox.failed, key, f"caller asked to correct: {exc.fields}")
            fields = [f.get("field") for f in exc.fields if f.get("field") in ORDER]
            dispatcher.utter_message(text=f"提交没有成功：{exc.reply}")
            return ([SlotSet(field, None) for field in fields]
                    + [SlotSet("ticket_confirmed", None), FollowupAction(FORM)])
        except (ApiUnavailable, IssueApiError) as exc:
            await runtime.blocking(outbox.retry_later, key, str(exc))
            log.warning("ticket for %s kept in the outbox (%s)", mask_phone(payload["phone"]), exc)
            dispatcher.utter_message(
                text=f"工单系统暂时连接不上，不过您反映的内容已经完整记录下来了，系统恢复后会自动登记，"
                     f"不会丢失。到时您可以用电话尾号{str(payload['phone'])[-4:]}查询工单编号。")
            return [SlotSet(slot, None) for slot in RESET_AFTER_FILING]
        await runtime.blocking(outbox.delivered, key, str(ticket["id"]))
        dispatcher.utter_message(text=replies.filed(ticket))
        return [SlotSet(slot, None) for slot in RESET_AFTER_FILING] + [
            SlotSet("last_ticket_id", str(ticket["id"])), SlotSet("ticket_id", str(ticket["id"]))]


FOLLOW_UP_INTENTS = ("check_ticket", "urge_ticket", "rate_service")


class StopFiling(Action):
    """The caller dropped the report half-way: say plainly that nothing was filed, then (by the
    rules) hand over to what the caller asked instead: a follow-up, or the end of the call."""

    def name(self) -> str:
        return "action_stop_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        if intent in FOLLOW_UP_INTENTS:
            text = "好的，刚才登记到一半的问题先不提交了，需要的话随时可以再反映。现在先帮您办这件事。"
        elif intent == "goodbye":
            text = "好的，刚才的问题先不登记了。感谢您的来电，需要时随时拨打96767，再见。"
        else:
            text = "好的，这件事先不登记了。还有别的需要帮忙的吗？"
        dispatcher.utter_message(text=text)
        return [SlotSet(slot, None) for slot in RESET_AFTER_FILING]
