"""Filing a ticket: the form's validation (with corrections and the caller's own first report),
its questions, the read-back, and the submission through the outbox.

Supply/demand and intermediary-service requests use the same form (request_type) and are filed as
kind `help`, category 其他, the description prefixed 【供需发布】/【中介超市】, so that the
platform's staff see and act on them in the same queue as every other request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.categories import category_from_answer, infer_category, names_a_problem
from actions.conversation import (asked_before_this_turn, caller_phone, channel, entity, latest_intent,
                                  latest_response, latest_text, pending_keys, question_just_answered, said_again,
                                  user_turns)
from actions.dialogue import after_digression, digression, is_huh, leaves_filing, resumes_filing, yes_or_no
from actions.handoff import handoff
from actions.hazards import advice_due, hazard_category
from actions.proof import known_codes, new_query_code
from actions.spoken import (ORGANISATION_END, chinese_punctuation, clean, company_name, corrected_kind, corrections,
                            declines_company, declines_name, is_specific, person_name, request_kind, sounds_angry,
                            without_kind_correction)
from contract.issue_client import Invalid, IssueApiError
from contract.messages import ticket_payload as ticket_note
from contract.phones import find_extension, find_phone, mask_phone
from contract.spoken_numbers import read_phone
from contract.vocabulary import CATEGORIES, DEFAULT_KIND, KIND_LABELS, LONG_TEXT_MAX, OTHER_CATEGORY, REPORT_FIELD_MAX

log = logging.getLogger(__name__)

FORM = "ticket_form"
ORDER = ["description", "category", "company", "contact_name", "phone", "ticket_confirmed"]
ANONYMOUS = "匿名"  # the contact's name of a caller who would rather not give one
REQUEST_TYPES = {"report_problem": "problem", "supply_demand": "supply_demand",
                 "intermediary_service": "intermediary"}
PREFIX = {"supply_demand": "【供需发布】", "intermediary": "【中介超市】"}
BEIJING = dt.timezone(dt.timedelta(hours=8))  # the day a report is made in, for its submission key
EXTENSION_NOTE = "（联系电话分机：{}）"  # after the description, for the department that calls back
# What a caller may say as the description: the API's limit less what is put around it.
DESCRIPTION_MAX = LONG_TEXT_MAX - max(len(prefix) for prefix in PREFIX.values()) - len(EXTENSION_NOTE.format("9" * 6))
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
        "description": said if (intent in REQUEST_TYPES or names_a_problem(said, settings.categories_file))
        and is_specific(said) and len(said) <= DESCRIPTION_MAX else None,
        "location": whole_place(entity(tracker, "location"), said),
    }
    if request_type == "problem":
        values["kind"] = request_kind(text)
        named = entity(tracker, "category")
        values["category"] = named if named in CATEGORIES else infer_category(text, settings.categories_file)
    else:
        values["kind"], values["category"] = DEFAULT_KIND, OTHER_CATEGORY
    for slot, ent in (("company", "company"), ("contact_name", "person")):
        if entity(tracker, ent):
            values[slot] = entity(tracker, ent)
    named = _NAMED_IN_REPORT.search(said)
    name = person_name(named.group("name")) if named else None
    if not values.get("contact_name") and name and not _ROLE.search(name) and not _NOT_IN_A_REPORTED_NAME.search(name):
        values["contact_name"] = name  # "…我姓冯叫冯建军，电话…": the NLU missed it
    organisation = _organisation_in(said)
    if (values.get("company") and organisation and _ENDS_AS_ORGANISATION.search(organisation)
            and (values["company"] in organisation or organisation in values["company"])):
        # The whole name around the part the NLU caught ("有限公司" of "我是金华义乌市福田小商品贸易有限公司的"),
        # or without what it ran on from ("要反映个事情我们是陕西秦创电子有限公司").
        values["company"] = organisation
    if values.get("company") and not _said_as_company(values["company"], said):
        # A place in the report the NLU took for a company ("园区西门的路灯坏了": 西门): asked for
        # instead, or every later answer would land one question off.
        del values["company"]
    phone = find_phone(text)
    if phone:
        values["phone"] = phone
    caller = caller_phone(tracker)
    if caller:
        values["caller_phone"] = caller
        if not tracker.get_slot("phone") and not phone:
            values.update(_offer(caller))
    values["channel"] = channel(tracker)
    values["description_hint"] = "too_long" if len(said) > DESCRIPTION_MAX else None
    values["consult_topic"] = None
    topic = question_just_answered(tracker) if request_type == "problem" else None
    if topic and ("咨询" in said or len(_ASKS_FOR_A_CALL_BACK.sub("", said)) < 4):
        values.update(_consultation(topic, said))
    return values


# A request for a call back, not yet what it is about: "登记咨询", "帮我登记一下，让部门联系我".
_ASKS_FOR_A_CALL_BACK = re.compile(r"(登记|咨询|一下|一个|请|让|叫|部门|工作人员|联系|回电|回复|打电话|需要|帮|给|我们?|"
                                   r"好的|好|行|可以|那|就|吧|的|了|[，,。！!\s])")


TOPIC_MAX = 200


def _consultation(topic: str, said: str) -> dict[str, Any]:
    """"登记咨询" after the bot answered a policy question from its FAQ: the caller wants the department
    to call about that question. It is kept at the head of the description (the department reads what
    was asked), the kind is 咨询, and the question for the description asks for their situation."""
    topic = clean(topic)[:TOPIC_MAX]
    values: dict[str, Any] = {"kind": "consult", "consult_topic": topic}
    category = infer_category(topic, runtime.settings().categories_file)
    if category:
        values["category"] = category
    details = _ASKS_FOR_A_CALL_BACK.sub("", said)
    if len(details) >= 6 and is_specific(said):  # "登记咨询，我们是做软件的，研发费用怎么算"
        values["description"] = f"{topic}；{said}"[:DESCRIPTION_MAX]
    else:
        values["description"], values["description_hint"] = None, "consult"
    return values


# What the NLU tends to leave off a place: its number ("锦业路" of "锦业路六十九号") or the crossing road
# ("锦业路" of "锦业路和丈八二路十字").
_PLACE_GOES_ON = (r"(\s*[\d零〇一二三四五六七八九十百幺两]+号(院|楼)?|"
                  r"(和|与|跟)[^\s，,。；的]{1,6}?(路|街|大道)(?!灯|面|边|况|段)(十字路?口?|交叉口|路口|口)?)")


def whole_place(place: Optional[str], said: str) -> Optional[str]:
    """The place as the caller said it, when the NLU caught only its start; None for one character
    ("路" of "路灯" is no place)."""
    if not place or len(place) < 2:
        return None
    more = re.search(re.escape(place) + _PLACE_GOES_ON, said)
    return place + more.group(1).strip() if more else place


def _said_as_company(name: str, said: str) -> bool:
    """An organisation's name ("…有限公司", "…厂"), or one the caller says they are from ("我是华清科技的",
    "我们单位叫华清科技", "华清科技这边停电了"); not a place ("西门的路灯", "我们三号楼停电了")."""
    if ORGANISATION_END.search(name):
        return True
    named = re.escape(name)
    from_it = r"(我是|我们是|这里是|这边是|我在|(公司|单位|企业)(名称?|名字)?(是|叫)|叫)\s*" + named
    speaks_for_it = named + r"\s*(这边|那边|公司|单位|企业|的员工|上班)"
    return bool(re.search(from_it, said) or re.search(speaks_for_it, said))


def _offer(phone: Optional[str]) -> dict[str, Any]:
    """Slots behind utter_ask_phone: the caller id proposed as the contact number, or not."""
    offered = bool(phone) and phone != DECLINED
    return {"phone_offer": phone, "phone_offered": offered, "phone_offer_read": read_phone(phone) if offered else None}


_NOT_IN_A_NAME = re.compile(r"[\s，,。.；;：:、！!？?（）()]")
# What follows a name in speech but is no part of it: particles, thanks, forms of address.
_AFTER_A_NAME = re.compile(r"[啊呀吧呢哦嘛的了哈嗯谢]|先生|女士|小姐|老师|经理|总")


def _whole_company(found: Optional[str], answer: Optional[str]) -> bool:
    """Whether the whole answer is the company the NLU caught only part of ("高新" of "高新测试有限公司",
    "科技有限公司" of "华山科技有限公司", "西安" of "比亚迪西安分公司"): one piece holding the entity, and one
    organisation's name ("西安华清科技有限公司在高新路中心" is a company and a place: the entity wins)."""
    if not (found and answer and found != answer and found in answer) or _NOT_IN_A_NAME.search(answer):
        return False
    ends = list(ORGANISATION_END.finditer(answer))
    return len(ends) == 1 and ends[0].end() == len(answer)  # ("西安" of "比亚迪西安分公司" too)


# Where an answer's parts divide: punctuation, and where the caller goes on about themselves.
_PART_BREAK = re.compile(r"[\s，,。；;、！!]+|(?=我叫|我姓|联系人|电话|手机)")
# "西安供电设备有限公司的张伟": up to the last ending, then 的 and a name.
_ORGANISATION_OF = re.compile(r"(?P<org>.+" + ORGANISATION_END.pattern + r")的(?P<name>[\u4e00-\u9fa5]{2,4})")
# "我叫王五" / "我姓李" / "联系人王五" in the same breath as the company.
_SELF_NAMED = re.compile(r"(我叫|我是|我姓|联系人(是|叫)?|姓名(是)?)(?P<name>[\u4e00-\u9fa5]{1,4}?)(?=[，,。\s电手号]|$)")
# A name the caller gives in the report itself: "我叫冯建军", "我姓冯叫冯建军", "联系人是王五" (not "我叫了
#好几次物业": no verb or pronoun starts a name).
_NAMED_IN_REPORT = re.compile(r"(?:我叫|我姓[\u4e00-\u9fa5]叫|名字叫|我的名字是|联系人是?)"
                              r"(?P<name>[^了过着人他她你物来去的一什\W\d][\u4e00-\u9fa5]{1,2})(?=[\s，,。；;电手号]|$)")
# Words no name holds that follow "联系人"/"我叫" in talk: "联系人换人了", "我叫外卖", "名字叫不上来".
_NOT_IN_A_REPORTED_NAME = re.compile(r"[我是没换不了留]|外卖|快递|滴滴|师傅|物业|上来")
# A place given for the company: a road or street with a number ("唐延路十一号", "科技路33号").
_ADDRESS = re.compile(r"(路|街|大道|巷)\s*[\d一二三四五六七八九十百零幺两]+\s*(号|弄|栋|座|楼)")
# Where a company said before its address ends: "西安华清科技 在唐延路11号", "华清科技，地址是科技路33号".
_BEFORE_ADDRESS = re.compile(r"[\s，,]*(在|位于|地址(是|在)?|地点(是|在)?)?[\s，,：:]*")


def _name_before_address(said: str) -> tuple[Optional[str], str]:
    """(the company named before the address or None, the place) of an answer holding an address."""
    parts = [p for p in re.split(r"[\s，,]+|(?=在|位于|地址|地点)", said) if p]
    first = next(i for i, part in enumerate(parts) if _ADDRESS.search(part) or i == len(parts) - 1)
    if first == 0:
        return None, chinese_punctuation(said)
    name = company_name(_BEFORE_ADDRESS.sub("", "".join(parts[:first]), count=1))
    place = _BEFORE_ADDRESS.sub("", "".join(parts[first:]), count=1) or chinese_punctuation(said)
    return (name, place) if name else (None, chinese_punctuation(said))
# Where a caller starts saying whom they speak for, in a longer breath: the organisation's name follows.
_SAYS_WHO = re.compile(r"(?:我们是|我是|我们这边是|这里是|这边是|我们单位是|我们公司是|我们单位|我们公司|来自)(?=.{4})")
# "我是负责人": who the caller is in the company, not their name.
_ROLE = re.compile(r"负责人|老板|经理|老总|主任|法人|员工|同事|职员|工作人员|这里|那里|本人|自己|前台|保安|会计|财务")
# No organisation behind the report: filed as 个人.
_PERSONAL = re.compile(r"个人|个体|没有(单位|公司)|不是(公司|单位)|无单位")
PERSONAL = "个人"
# Words that say the rest is the company's name.
_NAMES_A_COMPANY = re.compile(r"(公司|单位|企业)(名称|名字|全称)?(叫|是|为)")
# The name said after what the company does: "我们是做软件的 叫易联科技", "做建材的，名字叫宏远".
_CALLED = re.compile(r"(?:^|[\s，,的])(?:名字|名称)?(?:叫做|叫)(?P<name>[^\s，,。；;]{2,30})$")
# "对了还有…" / "另外…": one more thing about the problem, said when another question was asked.
# An answer about the category itself ("应该属于环境噪音这一类"), not more of the problem.
_ABOUT_CATEGORY = re.compile(r"(属于|算是?|类|方面|分类|归到)")
_ENDS_AS_ORGANISATION = re.compile(ORGANISATION_END.pattern + "$")
_ADDS_TO_PROBLEM = re.compile(r"^(对了|另外|还有)[，,\s]*(还有|就是)?[，,\s]*((一点|一个|一件事|个事)[，,：:\s]*)?")


def _organisation_in(answer: str) -> Optional[str]:
    """The organisation's name when the answer holds one among other things ("西安宏远建材有限公司，我叫
    王五", "我是西安供电设备有限公司的张伟"), else None: the whole answer is the name (a name may hold
    several endings: "国网陕西省电力有限公司西安供电公司", "中国银行西安分行"), or it holds none."""
    for part in _PART_BREAK.split(answer):
        if not part or not ORGANISATION_END.search(part):
            continue
        owned = _ORGANISATION_OF.fullmatch(part)  # "…有限公司的张伟": the organisation, then its person
        # "你好我要反映个事情我们是陕西秦创电子有限公司的…": the name starts after the caller says who they are.
        part = _SAYS_WHO.split(owned.group("org") if owned else part)[-1]
        name = company_name(part)
        if name and len(name) >= 4:
            return None if name == answer else name
    return None


def _contrast_of_a_field(tracker: Tracker, wrong: str, right: str) -> dict[str, Any]:
    """"不是周敏是周明明": the field that holds the wrong value gets the right one (a name or company
    through its own reading, so "是王晓明的晓" stays no name); else a correction of the problem when the
    problem said the wrong thing ("不是路灯 是园区大门的道闸坏了"); else nothing."""
    for slot, read in (("contact_name", person_name), ("company", company_name)):
        if tracker.get_slot(slot) and wrong == tracker.get_slot(slot):
            value = read(right)
            return {slot: value} if value else {}
    if wrong in (tracker.get_slot("description") or "") and is_specific(right):
        return {"description_note": right}
    return {}


def _problem_said_before(tracker: Tracker, said: str) -> Optional[str]:
    """The caller's previous message when it named the problem ("停电了") but was too short to file,
    and the bot answered it by asking for the details (not a question it answered: "电费怎么交？")."""
    turns = user_turns(tracker)
    if len(turns) < 2 or latest_response(tracker) != "utter_ask_description":
        return None
    earlier = clean(turns[-2])
    if not earlier or earlier in said or len(earlier) > 30:
        return None
    return earlier if names_a_problem(earlier, runtime.settings().categories_file) else None


def _whole_person(found: Optional[str], name: Optional[str]) -> bool:
    """Whether the whole answer is the name the NLU caught only the surname of ("赵" of "赵六"): two to
    four characters starting with the entity, nothing but name after it ("王秀兰啊", "张伟谢谢", "张总"
    keep the entity), or only the given name ("振华" of "胡振华": a surname the NLU does not know)."""
    if not (found and name and found != name) or _NOT_IN_A_NAME.search(name) or not 2 <= len(name) <= 4:
        return False
    if name.startswith(found):
        return not _AFTER_A_NAME.search(name[len(found):])
    # One character in front of a given name of two or more: the surname ("胡" of "胡振华"), not "免贵姓张".
    return name.endswith(found) and len(name) - len(found) == 1 and len(found) >= 2 and name[0] not in "姓叫是我"


# What a report left half-way for a follow-up keeps until the caller says "继续登记" (the company,
# name and phone are kept anyway: they are the caller's, not the report's).
DRAFT = ("request_type", "description", "category", "kind", "location", "consult_topic")
SIDE_QUESTIONS = ("ask_policy", "bot_challenge", "request_human", "cancel_ticket", "ask_repeat", "greet")


def _side_questions(tracker: Tracker, requested: Optional[str]) -> tuple[str, ...]:
    """What the rules answer in the middle of filing. A consultation's question is its description:
    "研发费用怎么算" then is what the caller asks the department, not one for the FAQ."""
    if requested == "description" and tracker.get_slot("kind") == "consult":
        return tuple(intent for intent in SIDE_QUESTIONS if intent != "ask_policy")
    return SIDE_QUESTIONS


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

        advised = requested in (None, "description", "category")  # turns that tell the problem, not a company
        if advised:
            for advice in advice_due(tracker, text):  # a fire, a gas leak: what to do first, then the report
                dispatcher.utter_message(response=advice)
        if sounds_angry(text) and not after_digression(tracker.events, FORM):
            # A clearly angry caller goes to a person with what was said so far, not through a form.
            handoff(dispatcher, tracker, "angry")
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", None)]
        if requested is None:  # the form is being opened by this turn
            updates = _fresh_values(tracker, intent, text)
            draft = tracker.get_slot("filing_draft")
            if draft and resumes_filing(clean(text)):
                dispatcher.utter_message(response="utter_filing_resumed")
                # What the draft holds; what it lacks stays as this turn said it.
                updates.update({slot: draft[slot] for slot in DRAFT if draft.get(slot)}, description_hint=None)
            updates["filing_draft"] = None  # picked up, or a new report: the half-way one is dropped
            if updates.get("request_type") in PREFIX and updates.get("description"):
                # Said in one go, the request skips the question that says where it goes: said here.
                dispatcher.utter_message(response=f"utter_noted_{updates['request_type']}")
        elif after_digression(tracker.events, FORM):
            return [SlotSet("requested_slot", _next_slot(current))]
        elif digression(intent, confidence, text, _side_questions(tracker, requested)):
            return []  # reject: rules answer the side question, then the form resumes
        elif leaves_filing(intent, confidence, text, requested):
            return []  # reject: rules stop this filing and do what the caller now asks
        else:
            updates = self._answer(dispatcher, tracker, requested, intent, text)

        if advised and not updates.get("category") and not current.get("category") and hazard_category(text):
            updates["category"] = hazard_category(text)  # (not the list of twelve after "leave the building")
        if updates.pop(STOP_FILING, None):
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", None)]
        if "phone" in updates:  # a number given (or cleared) this turn: its extension with it, if said
            updates["phone_extension"] = find_extension(text, updates["phone"]) if updates["phone"] else None
        for slot in _refuse_too_long(dispatcher, updates):
            updates[slot] = None  # (the description's own question says so itself)
        values = {**current, **updates}
        events: list[EventType] = [SlotSet(slot, value) for slot, value in updates.items()]
        events.append(SlotSet("requested_slot", _next_slot(values)))
        return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str,
                intent: str, text: str) -> dict[str, Any]:
        """Interpret the caller's turn as the answer to `requested`, or as a correction."""
        settings = runtime.settings()
        kind = corrected_kind(text)
        if kind and tracker.get_slot("request_type") in (None, "problem") and requested != "description":
            # "不对，不是投诉，是举报" at the company question: the kind changes, the question stays; more
            # about the problem in the same breath ("是建议不是投诉 希望园区多装几个充电桩") is added to it.
            dispatcher.utter_message(response="utter_corrected_kind", kind_label=KIND_LABELS[kind])
            updates = {"kind": kind}
            more = without_kind_correction(clean(text))
            if is_specific(more) and more not in (tracker.get_slot("description") or ""):
                updates["description"] = f"{tracker.get_slot('description') or ''}；{more}".lstrip("；")[:DESCRIPTION_MAX]
                dispatcher.utter_message(response="utter_description_added")
            return updates
        updates: dict[str, Any] = dict(corrections(text, requested))
        if _refuse_too_long(dispatcher, updates) and not updates:
            return {}  # a correction too long to keep: said so, and the pending question is asked again
        named = updates.pop("category_text", None)
        category = category_from_answer(named, settings.categories_file) if named else None
        note = updates.pop("description_note", None)
        wrong, right = updates.pop("contrast_wrong", None), updates.pop("contrast_right", None)
        if wrong and right:
            updates.update(_contrast_of_a_field(tracker, wrong, right))
            if "description_note" in updates:
                note = updates.pop("description_note")
        if note:  # "不对，是空调坏了不是电梯": kept beside what was said first, for the department to read
            updates["description"] = f"{tracker.get_slot('description') or ''}（更正：{note}）".lstrip()
        if "description" in updates:  # a corrected description may well be of another category
            inferred = infer_category(note or updates["description"], settings.categories_file)
            category = inferred if inferred and inferred != OTHER_CATEGORY else category
        for slot, value in updates.items():
            extra = {"phone_read": read_phone(value)} if slot == "phone" else {slot: value}
            dispatcher.utter_message(response=f"utter_corrected_{slot}", **extra)
        if category:
            updates["category"] = category
            dispatcher.utter_message(response="utter_corrected_category", category=category)
        elif named:
            # The category said to be wrong, the right one not understood: its question is asked
            # (again) before the pending one, never the words taken as this answer.
            updates["category"] = None
            dispatcher.utter_message(response="utter_category_not_understood")
        if updates:
            return updates  # a correction is the whole turn; the pending question is asked again
        said = clean(text)

        if requested == "description":
            # "停电了" -> "请具体说说" -> "整个厂区都停了": the problem is in the first message, the
            # details in this one; the department needs both.
            earlier = _problem_said_before(tracker, said)
            whole = f"{earlier}，{said}" if earlier else said
            topic = tracker.get_slot("consult_topic")
            if topic and topic not in said:  # the FAQ question a consultation was registered for
                whole = f"{topic}；{said}"
            if len(whole) > DESCRIPTION_MAX:
                updates["description"] = None
                updates["description_hint"] = "too_long"  # asked again, for the gist
            elif is_specific(said):
                updates["description"] = whole
                if not tracker.get_slot("category") or tracker.get_slot("category") == OTHER_CATEGORY:
                    # The details name it best ("三号楼的路灯" after "停电了？"); the first words otherwise.
                    updates["category"] = (infer_category(said, settings.categories_file)
                                           or infer_category(whole, settings.categories_file))
                if tracker.get_slot("request_type") in (None, "problem") and not topic:
                    updates["kind"] = request_kind(whole)
            else:
                updates["description"] = None
                updates["description_hint"] = "more"
        elif requested == "category" and _ENDS_AS_ORGANISATION.search(said) and not tracker.get_slot("company") \
                and not category_from_answer(said, settings.categories_file) and _organisation_in(said) is None \
                and len(company_name(said) or "") >= 6 and not re.match(r"(就是|在|我们|属于)", said):
            # "西安启明星教育科技有限公司" at the category question: the company, said early; the
            # category is asked again (never the company added to the problem).
            updates["company"] = company_name(said)
        elif requested == "category":
            found = entity(tracker, "category")
            updates["category"] = found if found in CATEGORIES else category_from_answer(
                said, settings.categories_file)
            if (len(said) >= 10 and is_specific(said) and not _ABOUT_CATEGORY.search(said)
                    and not any(label in said for label in CATEGORIES)
                    and said not in (tracker.get_slot("description") or "")):
                # The problem told now ("我们园区每天下午都停电…" after "是这样的，我跟你说一下"): it
                # is what the department must read, not only where the category comes from.
                updates["description"] = f"{tracker.get_slot('description') or ''}；{said}".lstrip("；")[:DESCRIPTION_MAX]
                updates["category"] = updates["category"] or infer_category(said, settings.categories_file)
            if not updates["category"] and said_again(tracker, "utter_category_not_understood"):
                # Asked twice: 其他 and on with the report; the operators classify it (a smoking
                # transformer must not wait on a list of twelve categories).
                updates["category"] = OTHER_CATEGORY
                dispatcher.utter_message(response="utter_category_defaulted")
            elif not updates["category"]:
                dispatcher.utter_message(response="utter_category_not_understood")
        elif requested == "company":
            updates.update(self._company_answer(dispatcher, tracker, said))
        elif requested == "contact_name" and _ENDS_AS_ORGANISATION.search(said) and len(said) >= 5 \
                and not re.match(r"(我叫|我姓|叫|姓)", said):
            # "西安远航机械有限公司" when the name was asked: the company (what was taken for it was
            # something else), and the name asked again unless said with it ("张伟 华清科技有限公司").
            company = _organisation_in(said) or company_name(_SAYS_WHO.split(said)[-1])
            known = tracker.get_slot("company") or ""
            if company and company not in known and known not in company:
                updates["company"] = company
                dispatcher.utter_message(response="utter_corrected_company", company=company)
            names = [p for p in re.split(r"[\s，,]+", said) if p and not ORGANISATION_END.search(p)]
            name = person_name(names[0]) if len(names) == 1 and 2 <= len(names[0]) <= 4 else None
            updates["contact_name"] = name
        elif requested == "contact_name":
            if declines_name(said):
                # The phone number is what a follow-up needs; a name is a courtesy, and a report
                # (举报) may well be made without one.
                updates["contact_name"] = ANONYMOUS
                dispatcher.utter_message(response="utter_name_anonymous")
            else:
                # The whole name said, when the entity holds only part of it ("赵" of "赵六").
                found, name = entity(tracker, "person"), person_name(said)
                updates["contact_name"] = name if _whole_person(found, name) else (found or name)
            if not updates["contact_name"]:
                dispatcher.utter_message(response="utter_name_not_understood")
        elif requested == "phone":
            updates.update(self._phone_answer(dispatcher, tracker, intent, text))
        elif requested == "ticket_confirmed" and not updates:
            field = field_to_change(said)
            if field:
                # "公司名", "电话不对" at the read-back: that question is asked again, never a yes
                # (the NLU may well hear "公司名" as one).
                updates.update({field: None, "ticket_confirmed": None})
                if field == "phone":  # the number proposed before is the wrong one: ask for the right one
                    updates.update(_offer(DECLINED))
            else:
                answer = yes_or_no(intent, text)  # (the words as said: "啊？" is no yes)
                updates["ticket_confirmed"] = True if answer else None
        return updates

    @staticmethod
    def _company_answer(dispatcher: CollectingDispatcher, tracker: Tracker, said: str) -> dict[str, Any]:
        """The company, and what else the caller put in the same breath: their name and phone
        ("西安宏远建材有限公司，我叫王五，电话135…"), or one more thing about the problem ("对了还有…")."""
        if declines_company(said):
            dispatcher.utter_message(response="utter_company_required")
            return {"company": None}
        if _ADDS_TO_PROBLEM.match(said):
            more = _ADDS_TO_PROBLEM.sub("", said)
            if _NAMES_A_COMPANY.search(more) or _organisation_in(more) or not is_specific(more):
                said = more  # "还有，我们公司叫华清科技": the answer after all
            else:
                description = f"{tracker.get_slot('description') or ''}；{more}".lstrip("；")
                dispatcher.utter_message(response="utter_description_added")
                return {"description": description[:DESCRIPTION_MAX]}
        if _PERSONAL.search(said) and not ORGANISATION_END.search(_PERSONAL.sub("", said)) and len(said) <= 12:
            return {"company": PERSONAL}  # "那就个人吧", "没有单位", "不是公司，是个人"
        updates: dict[str, Any] = {}
        found = entity(tracker, "company")
        organisation = _organisation_in(said)
        called = _CALLED.search(said)
        if not organisation and called and company_name(called.group("name")) and (
                not found or found in called.group("name")):
            organisation = company_name(called.group("name"))  # "我们是做软件的 叫易联科技": not "科技"
        if not organisation and _ADDRESS.search(said) and not ORGANISATION_END.search(said):
            # "高新区唐延路十一号那个楼": where it is, not who reports it; kept as the place if none was
            # said. A name before it ("西安华清科技 在唐延路11号") is the company; else it is asked again.
            name, place = _name_before_address(said)
            place_kept = {} if tracker.get_slot("location") else {"location": place}
            company = found if found and not _ADDRESS.search(found) and found not in place else name
            if company:
                return {"company": company, **place_kept}
            dispatcher.utter_message(response="utter_place_noted", location=place)
            return {"company": None, **place_kept}
        if organisation and found and found != organisation and found.startswith(organisation):
            found = organisation  # the NLU ran on into the name after it ("…有限公司 马超")
        answer = organisation or company_name(said)
        # The answer to "which company" is the name; an entity cut short, at the front ("科技有限公司"
        # of "华山科技有限公司") or at the end ("高新" of "高新测试有限公司"), gives way to the whole
        # answer that holds it and reads as a name.
        if organisation and (not found or found in organisation):
            updates["company"] = organisation
        else:
            updates["company"] = answer if _whole_company(found, answer) else (found or answer)
        if not updates["company"]:
            dispatcher.utter_message(response="utter_company_not_understood")
            return updates
        rest = re.sub(r"^(我是|我们是)?的", "我叫", said.replace(updates["company"], "", 1))  # "…公司的张伟"
        name = _SELF_NAMED.search(rest)
        person = entity(tracker, "person")
        if name and not tracker.get_slot("contact_name") and not _ROLE.search(name.group("name")) \
                and person_name(name.group("name")):
            updates["contact_name"] = name.group("name")  # (not "负责人" of "我是负责人")
        elif person and person in rest and not tracker.get_slot("contact_name") and person_name(person):
            updates["contact_name"] = person  # "西安智联数据有限公司 马超": the name said after the company
        phone = find_phone(rest)
        if phone and not tracker.get_slot("phone"):
            updates["phone"] = phone
        return updates

    @staticmethod
    def _phone_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                      text: str) -> dict[str, Any]:
        said = clean(text)
        number = find_phone(said)
        if number:
            return {"phone": number}
        if _DECLINES_PHONE.search(said):
            # Why it is needed, once; refused again, the filing stops with a way forward instead of
            # the same question a third time (the department can neither answer nor call back).
            if said_again(tracker, "utter_phone_why"):
                dispatcher.utter_message(response="utter_phone_declined_stop")
                return {STOP_FILING: True}
            dispatcher.utter_message(response="utter_phone_why")
            return {"phone": None}
        offer = tracker.get_slot("phone_offer")
        caller = tracker.get_slot("caller_phone")
        if caller and _THIS_NUMBER.search(said):
            return {"phone": caller}  # "就用这个来电号码", also after a no to the offer
        answer = yes_or_no(intent, text)
        if offer and offer != DECLINED and answer is True:
            return {"phone": offer}
        if answer is False:
            return {"phone": None, **_offer(DECLINED)}
        if is_huh(text):
            return {"phone": None}  # "啊？": the offer is made again, no "number incomplete"
        dispatcher.utter_message(response="utter_phone_incomplete")
        return {"phone": None}


# What a caller names when asked which field to change, and the words around such an answer.
_FIELD_WORDS = (("company", r"(公司|单位|企业)(名称|名字|全称|名)?"), ("contact_name", r"(联系人|名字|姓名|人名)"),
                ("phone", r"(电话|手机|联系方式)(号码|号)?|号码"), ("category", r"(类别|分类|类型)"),
                ("description", r"(问题|内容|描述)(描述)?"))
_AROUND_FIELD = r"(不对|错了|写错了|说错了|填错了|有误|要改|改一下|改下|需要改|需要修改|修改|也不对|是|就是|那个|的|吧|呢|啊|[，,。.！!\s])*"


def field_to_change(said: str) -> Optional[str]:
    """The one field a read-back answer names without its new value ("公司名", "电话不对", "改一下类别")."""
    named = [slot for slot, words in _FIELD_WORDS if re.fullmatch(f"{_AROUND_FIELD}({words}){_AROUND_FIELD}", said)]
    return named[0] if len(named) == 1 else None


# The caller will not leave a number: "不方便留电话", "就不能不留吗", "没有电话", "我不留".
_DECLINES_PHONE = re.compile(r"(不方便|不想|不愿意?|不能不|不要|不用|没有|不)(留|给|说|告诉|提供)?(电话|号码|手机)?"
                             r"(?<=[留给说诉供话码机])|没(有)?电话|保密")
# The number the caller is calling from, named: "就用这个来电号码", "用本机号码", "打进来的这个号".
_THIS_NUMBER = re.compile(r"(来电|本机|现在的|打进来的|这个手机)(的)?(号码|号|电话)|用这个号")
# Set by an answer that ends the filing (the form stops; nothing is filed).
STOP_FILING = "_stop_filing"


class AskTicketConfirmed(Action):
    """Read everything back before filing; after a plain 'no', ask what to change instead."""

    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        # The caller answered the read-back with neither a yes nor a change we understood ("不对", "那个
        #类别不对吧"): ask what to change rather than read the same thing back again.
        if (asked_before_this_turn(tracker) == "ticket_confirmed" and not after_digression(tracker.events, FORM)
                and yes_or_no(intent, clean(text)) is not True
                and not corrections(text, "ticket_confirmed")):
            dispatcher.utter_message(response="utter_ask_which_field")
            return []
        request_type = tracker.get_slot("request_type") or "problem"
        response = f"utter_readback_{request_type}" if request_type in PREFIX else "utter_readback_problem"
        if response == "utter_readback_problem" and tracker.get_slot("location"):
            response = "utter_readback_problem_at_location"
        dispatcher.utter_message(response=response, phone_read=phone_read(tracker))
        return []




def _refuse_too_long(dispatcher: CollectingDispatcher, updates: dict[str, Any]) -> list[str]:
    """Drop the values the issue API would refuse as too long (REPORT_FIELD_MAX), saying which; the
    fields dropped. Checked before the read-back, so that nothing is promised that cannot be filed."""
    too_long = [slot for slot, value in updates.items() if slot in REPORT_FIELD_MAX and slot != "description"
                and isinstance(value, str) and len(value) > REPORT_FIELD_MAX[slot]]
    for slot in too_long:
        updates.pop(slot)
    if too_long:
        dispatcher.utter_message(response="utter_field_too_long",
                                 fields=replies.field_names([{"field": slot} for slot in too_long]))
    if isinstance(updates.get("description"), str) and len(updates["description"]) > DESCRIPTION_MAX:
        updates["description"], updates["description_hint"] = None, "too_long"  # asked again, for the gist
    return too_long


def submission_key(tracker: Tracker) -> str:
    """Same conversation, same report, same day, nothing filed since -> same key, so a repeated
    action files nothing new. Not the confirming turn: when Rasa dies after the action filed the
    ticket, the turn is lost, the caller confirms again in a new turn, and must get the same ticket."""
    report = json.dumps(ticket_payload(tracker), sort_keys=True, ensure_ascii=False)
    day = dt.datetime.now(BEIJING).date().isoformat()
    raw = f"{tracker.sender_id}|{day}|{tracker.get_slot('last_ticket_id')}|{report}"
    return "rasa-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def phone_read(tracker: Tracker) -> str:
    """The contact number as the read-back says it, with its extension ("029 8888 1234 转 8008")."""
    extension = tracker.get_slot("phone_extension")
    return read_phone(tracker.get_slot("phone") or "") + (f" 转 {extension}" if extension else "")


def ticket_payload(tracker: Tracker) -> dict[str, Any]:
    slot = tracker.get_slot
    # The ticket's phone stays the number itself (it proves the caller id and is dialled back); the
    # extension is written where the department reads it.
    extension = EXTENSION_NOTE.format(slot("phone_extension")) if slot("phone_extension") else ""
    payload = {
        "company": slot("company"),
        "contact_name": slot("contact_name"),
        "phone": slot("phone"),
        "category": slot("category") or OTHER_CATEGORY,
        "description": PREFIX.get(slot("request_type") or "", "") + str(slot("description") or "") + extension,
        "kind": slot("kind") or DEFAULT_KIND,
        "channel": channel(tracker),
        "conversation_id": tracker.sender_id,
    }
    if slot("location"):
        payload["location"] = slot("location")
    return payload


RESET_AFTER_FILING = ["description", "description_hint", "category", "kind", "location", "ticket_confirmed",
                      "request_type", "requested_slot", "consult_topic"]


class SubmitTicket(Action):
    """File through the outbox: written down first, then sent; an outage never loses the report."""

    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("ticket_confirmed") is not True:
            return []
        key = submission_key(tracker)
        outbox, client = runtime.outbox(), runtime.client()
        await runtime.blocking(outbox.add, key, {**ticket_payload(tracker), "query_code": new_query_code()}, 120.0)
        # A repeated turn finds the first record: the same report, with the same query code.
        payload = (await runtime.blocking(outbox.get, key)).payload
        try:
            ticket = await runtime.blocking(client.create_ticket, payload, key)
        except Invalid as exc:
            await runtime.blocking(outbox.failed, key, f"caller asked to correct: {exc.fields}")
            fields = [f.get("field") for f in exc.fields if f.get("field") in ORDER]
            dispatcher.utter_message(response="utter_filing_invalid", fields=replies.field_names(exc.fields))
            return ([SlotSet(field, None) for field in fields]
                    + [SlotSet("ticket_confirmed", None), FollowupAction(FORM)])
        except IssueApiError as exc:
            await runtime.blocking(outbox.retry_later, key, str(exc))
            log.warning("ticket for %s kept in the outbox (%s)", mask_phone(payload["phone"]), exc)
            dispatcher.utter_message(response="utter_filing_queued", phone_tail=str(payload["phone"])[-4:])
            waiting = [k for k in pending_keys(tracker) if k != key]
            return [SlotSet(slot, None) for slot in RESET_AFTER_FILING] + [SlotSet("pending_filing", [*waiting, key])]
        ticket_id = str(ticket["id"])
        await runtime.blocking(outbox.delivered, key, ticket_id)
        dispatcher.utter_message(response="utter_filed", ticket_number=replies.ticket_number(ticket_id),
                                 query_code=payload["query_code"], deadline=replies.spoken_date(ticket.get("deadline")),
                                 json_message=ticket_note(ticket_id, "filed"))
        return [SlotSet(slot, None) for slot in RESET_AFTER_FILING] + [
            SlotSet("last_ticket_id", ticket_id), SlotSet("ticket_id", ticket_id),
            SlotSet("ticket_number", replies.ticket_number(ticket_id)),
            SlotSet("ticket_codes", {**known_codes(tracker), ticket_id: payload["query_code"]})]


FOLLOW_UP_INTENTS = ("check_ticket", "urge_ticket", "rate_service")


class StopFiling(Action):
    """The caller dropped the report half-way: say plainly that nothing was filed, then (by the
    rules) hand over to what the caller asked instead: a follow-up, or the end of the call."""

    def name(self) -> str:
        return "action_stop_filing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        draft = None
        if intent in FOLLOW_UP_INTENTS:
            dispatcher.utter_message(response="utter_filing_stopped_for_followup")
            draft = {slot: tracker.get_slot(slot) for slot in DRAFT if tracker.get_slot(slot)} or None
        elif intent == "goodbye":
            dispatcher.utter_message(response="utter_filing_stopped_goodbye")
        else:
            dispatcher.utter_message(response="utter_filing_stopped")
        return [SlotSet(slot, None) for slot in RESET_AFTER_FILING] + [SlotSet("filing_draft", draft)]
