"""Small judgements about a caller's turn shared by both forms: yes/no, and digressions."""
from __future__ import annotations

import re
from typing import Optional

from actions.spoken import clean
from contract.spoken_numbers import find_code, find_ticket_id

_YES = re.compile(r"^(对|是|嗯|好|可以|行|没错|没问题|确认|确定|就用|就这个|用这个|正确|ok|OK)")
_NO = re.compile(r"^(不|没|错|别|换|算了)")
_HUH = re.compile(r"[啊呃额]+[？?。.！!]*|[啊呃额嗯哦]*[？?]+")
_QUESTION = re.compile(r"(吗|么|什么|怎么|怎样|哪|几点|多久|多少|是不是|能不能|可不可以|如何|还是(真人|人|机器)|\?|？)")
_HUMAN = re.compile(r"(人工|真人|转接|坐席|客服人员|工作人员|领导|负责人)")
# A caller who missed what the bot said: "再说一遍", "没听清", "没听懂", "啥意思", "你刚才说什么",
# "嗯？什么", "号码再报一遍", "重新说一下", "说慢点", "大声点", "喂喂 听不见".
# (Anchored where the words also make up reports: "什么意思" in a complaint, "重新说一下 是三号楼…" a
# correction, "大声喧哗" and "声音很小" noise and alarms, "员工听不懂方言".)
_ASK_AGAIN = re.compile(r"(再(说|讲|念|问|重复|报)|再来一(遍|次|下)|再来[吧吗？?]?$|重复|没(听|记)(清|见|到|住|下)|听不(清|见|到)|"
                        r"(没听|听不)(懂|明白)(你|您)?(说的|的意思)?(什么|啥)?[啊呀吧呢。！!？?]*$|"
                        r"(说|讲)的?(什么|啥)(?!时候|时间|地方|原因|东西|都|事|人|部门|意见)|^(什么\s*){2,3}[？?]?$|"
                        r"重新(说|讲|念|报)(一下|一遍|一次)?[吧吗呢？?。！!]?$|"
                        r"^(你|您)?(说的|这)?(是)?(什么|啥)意思[？?]?$|大声(一)?点|大点声|(你|您)(的)?声音(太|有点|好)?小|"
                        r"^(嗯|啊|哦)?[？?，,\s]*(什么|啥|啊|嗯|pardon)[？?]?$|说?慢(一)?点|太快)")
_GIVE_UP = re.compile(r"(算了|不报了|不登记了|不反映了|不用登记|不用了|取消|不办了|撤)")
_STOP_FILING = re.compile(r"(不报了|不登记了|不反映了|不用登记|不办了|不提交了|不弄了|不想报|算了吧|那算了|算了算了|不用报了|"
                          r"^(算了)?[，,\s]*不要(登记|报)了$|^算了[，,\s]*不要了$)")
# What a turn must also say to count as leaving the filing for another request: a company name or a
# description can be misclassified as anything, the words make the switch unmistakable.
_SWITCH_WORDS = {
    "check_ticket": re.compile(r"(查|进度|办到|结果|怎么样了|咋样了|处理了没|有消息|状态|到哪)"),
    "urge_ticket": re.compile(r"(催|督办|督促|加急)"),
    "rate_service": re.compile(r"(评价|打分|评分|好评|差评|满意)"),
    "goodbye": re.compile(r"(再见|拜拜|挂了|先这样|不打扰|结束|回头再|就这样吧)"),
}


# Doubt or a no inside a turn that starts like a yes ("好像有点不太对吧", "对吗？不是这个吧"); 没错,
# 没问题 and 不错 are yeses.
_DOUBT = re.compile(r"(不对|不是|不太|不行|不要|不用|不确定|有点问题|错了|好像|似乎|吗|么|\?|？)")


def is_huh(text: str) -> bool:
    """"啊？", "嗯？": the caller did not catch the question."""
    return bool(_HUH.fullmatch(text.strip()))


def yes_or_no(intent: str, text: str) -> Optional[bool]:
    """True for a yes, False for a no, None when the turn is neither."""
    said = clean(text)
    if is_huh(text):
        return None  # "啊？", "啊": on the phone a caller who did not catch it, never a yes
    if _DOUBT.search(said.replace("没错", "").replace("没问题", "").replace("不错", "")):
        if intent == "deny" or (_NO.match(said) and len(said) <= 8):
            return False
        return None  # doubt is never a yes: the read-back asks what to change
    if intent == "affirm" or (_YES.match(said) and len(said) <= 8):
        return True
    if intent == "deny" or (_NO.match(said) and len(said) <= 8):
        return False
    return None


# A turn that only greets or checks the line: "喂", "你好", "喂喂 听得到吗", "能听见我说话吗", "有人吗",
# "还在吗". With anything more ("你好 我要投诉…", "喂 路灯坏了") it is a turn of its own.
_GREETING_WORDS = re.compile(r"(喂|哎|诶|欸|嗯|啊|你好|您好|哈喽|hello|hi|请问)")
_PUNCTUATION = re.compile(r"[\s，,。.！!？?、~～…]+")
# One check of the line. The turn is read piece by piece (`_pieces`), never with a repeated group of
# optional parts: such a pattern backtracks exponentially on a long turn that almost matches.
_LINE_CHECK = re.compile(r"(你|您)?(那边|那头)?(能|可以)?听(不听)?(得|的)?(见|到|清楚?)(了)?(没|吗|么|不)?(听(得|的)?(见|到|清))?"
                         r"(我(说话|讲话|的声音|说的话)?)?(吗|么|没有?|不|啊|呀)?|(那边|那头)?有人(接)?(吗|在吗|没有?|不)?|"
                         r"(人)?(还)?在(听)?(吗|么|不在)|人呢|有没有人")

# "是96767吗", "这边是高新区企业服务热线对吧", "是不是助企一把的客服", "哪位", "请问是哪里": whether the
# caller reached the hotline. Only a question counts: "西安热线" or "你们客服" can be an answer to a form's
# question (a company's name, who the caller spoke to), "是高新区的吗" the start of one.
_WHICH_LINE = re.compile(r"(?P<who>这里|这边|你们这|你们|您这|你这|这|你|您)?(?P<is>是不是|是)?"
                         r"(?P<name>[西安高新区管委会的企业政务服务助企一把热线客服电话哪位里儿谁九六七0-9]{1,20})"
                         r"(?P<ask>吗|么|吧|啊|呀|对吧|对吗|是吧|是吗|没错吧|对不对|不是)?")
_CONFIRMING = re.compile(r"是吗|是吧|对吧|对吗|对不对|是不是|没错吧")  # "…是96767吗？是吗"
_HOTLINE = re.compile(r"96767|九六七六七|热线|助企一把|客服")
_WHO_IS_IT = re.compile(r"哪位|哪里|哪儿|谁")
_QUESTION_TAILS = {"吗", "么", "吧", "对吧", "对吗", "是吧", "是吗", "没错吧", "对不对", "不是"}
_GREETING_MAX = 40  # characters left after the greeting words: longer is a turn of its own


def _asks_which_line(match: re.Match, greeted: bool) -> bool:
    """Whether one piece asks which line this is, as opposed to naming something."""
    name, who, is_ = match["name"], match["who"], match["is"]
    if name.startswith("的"):
        return False  # "是的 96767": a yes, then a number
    # "…不是" asks only after a 是 ("是96767热线不是"); "热线不是" says no.
    asked = (match["ask"] in _QUESTION_TAILS and (match["ask"] != "不是" or bool(is_))) or is_ == "是不是" \
        or bool(who and is_)
    if _WHO_IS_IT.search(name):
        return name == "哪位" or asked or greeted or bool(who or is_)
    return bool(_HOTLINE.search(name)) and asked


def _pieces(rest: str, greeted: bool) -> Optional[list[str]]:
    """The kinds of the pieces a greeting turn is made of ("line", "which"), or None when some part of it
    is neither. Each piece is the longest that matches where it starts: linear in the turn's length."""
    kinds: list[str] = []
    at = 0
    while at < len(rest):
        found = []
        line = _LINE_CHECK.match(rest, at)
        if line and line.end() > at:
            found.append((line.end(), "line"))
        which = _WHICH_LINE.match(rest, at)
        if which and which.end() > at and _asks_which_line(which, greeted):
            found.append((which.end(), "which"))
        confirming = _CONFIRMING.match(rest, at)
        if confirming and kinds:
            found.append((confirming.end(), kinds[-1]))
        if not found:
            return None
        end, kind = max(found)
        kinds.append(kind)
        at = end
    return kinds


def _greeting_kinds(text: str) -> Optional[set[str]]:
    """What a turn that only greets does ("hello", "line", "which"), or None when it says more."""
    said = _PUNCTUATION.sub("", (text or "").strip().lower())
    if not said:
        return None
    rest = _GREETING_WORDS.sub("", said)
    if not rest:
        return {"hello"}
    if len(rest) > _GREETING_MAX:
        return None
    kinds = _pieces(rest, greeted=rest != said)
    return set(kinds) if kinds else None


def greets_only(text: str) -> bool:
    """Whether the turn only greets the bot, asks whether the line works or whether this is the
    hotline: on the phone a caller does that when the line is quiet or noisy, and it answers no
    question of a form."""
    return _greeting_kinds(text) is not None


def asks_which_line(text: str) -> bool:
    """Whether a greeting turn asks if this is the hotline ("你好 请问是96767吗", "喂 哪位"): it wants
    the hotline's name, not "在的"."""
    return "which" in (_greeting_kinds(text) or set())


def digression(intent: str, confidence: float, text: str,
               handled: tuple[str, ...] = ("ask_policy", "bot_challenge", "request_human", "cancel_ticket",
                                           "ask_repeat", "greet"),
               ) -> bool:
    """Is this turn a side question (FAQ, 'are you a robot', 'a person please', 'forget it', 'say again',
    'hello, can you hear me?') rather than an answer? Answers such as company names can be classified as anything, so a
    digression also needs the words that make it one. `handled`: side questions the form's
    rules know how to answer."""
    if intent not in handled:
        return False
    if intent in ("ask_policy", "bot_challenge"):
        return confidence >= 0.5 and bool(_QUESTION.search(text))
    if intent == "request_human":
        return confidence >= 0.5 and bool(_HUMAN.search(text))
    if intent == "cancel_ticket":
        return confidence >= 0.5 and bool(_GIVE_UP.search(text))
    if intent == "ask_repeat":  # ("喂？" is heard as either)
        return confidence >= 0.5 and (asks_again(text) or greets_only(text))
    if intent == "greet":
        return confidence >= 0.5 and greets_only(text)
    return False


def asks_again(text: str) -> bool:
    """Whether the words ask to hear the bot's last turn again ("没听清", "你说什么")."""
    return bool(_ASK_AGAIN.search(text.strip().lower()))


def after_digression(events: list[dict], form: str) -> bool:
    """The form is resuming after a side answer (e.g. utter_ask_policy) to the latest turn."""
    own = {"action_listen", form, f"validate_{form}", "action_extract_slots", None}
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in own:
            return True
    return False


def leaves_filing(intent: str, confidence: float, text: str, requested: Optional[str]) -> bool:
    """Is this turn in the middle of filing a different request (look up, hurry or rate another
    ticket, end the call, drop this report) rather than the answer to the pending question? Such a
    turn must not be stored as a company name or description; the rules then stop the filing and
    do what was asked. Withdrawing and asking for a person are handled by `digression`."""
    if confidence < 0.5:
        return False
    said = clean(text)
    if intent == "deny":
        if _STOP_FILING.search(said):
            return True
        # "不用了" / "算了" answer a yes/no question about the phone or the read-back.
        return requested not in ("phone", "ticket_confirmed") and bool(_GIVE_UP.search(said))
    words = _SWITCH_WORDS.get(intent)
    if words is None or not words.search(said):
        return False
    # "好 就这样吧" at the read-back confirms rather than hangs up.
    return not (intent == "goodbye" and requested == "ticket_confirmed" and _YES.match(said))


_NEW_REPORT = re.compile(r"(反映|投诉|举报|报修|坏了|登记|建议|问题)")
_EARLIER = re.compile(r"(上次|之前|以前|那个|那件|已经|刚才)")


# Picking up the report left half-way: "继续登记", "接着刚才的问题说", "刚才那个问题继续报吧". Not a
# new report said with the same words ("继续报修", "接着报一个新问题", "之前的问题继续发生"): 登记 itself,
# or 刚才's report, must be named, and a new one must not.
_RESUMES = re.compile(
    r"(?<!不用)(?<!不要)(?<!不想)(?<!别)(?<!甭)(继续|接着)登记(?![^，,。！？!?\s]{0,3}(另|别的|下一|一个|个|新|其他|其它))"
    r"|(继续|接着|回到)(报|说|登记)?(刚才|刚刚|前面)(的|那个|那件)?(登记|反映|问题|事|报)"
    r"|(刚才|刚刚)(的|那个|那件)?(问题|事情?|登记)(还是)?(继续|接着)(登记|报|说|吧|$)")


def resumes_filing(said: str) -> bool:
    """"继续登记", "接着刚才的问题", "刚才那个问题继续报": the caller picks up a report left half-way
    for a look-up (ticket_form.py keeps it as a draft)."""
    return _RESUMES.search(said) is not None


def asks_to_report(text: str) -> bool:
    """"我是要反映问题", "我要投诉": a new report asked for in words (not "上次反映的那个问题")."""
    said = clean(text)
    return bool(_NEW_REPORT.search(said)) and not _EARLIER.search(said)


def leaves_followup(intent: str, confidence: float, text: str) -> bool:
    """Is this turn, asked for a ticket number or a query code, leaving the follow-up for a new report
    or to end the call? The rules then end the follow-up and do that. An answer with digits in it
    (a number, a code) is always an answer."""
    if confidence < 0.5 or re.search(r"\d", text) or find_code(text) or find_ticket_id(text):
        return False
    said = clean(text)
    if intent == "report_problem":  # "上次反映的那个问题" is the ticket asked about, not a new report
        return resumes_filing(said) or (bool(_NEW_REPORT.search(said)) and not _EARLIER.search(said))
    if intent == "goodbye":
        return bool(_SWITCH_WORDS["goodbye"].search(said))
    return False
