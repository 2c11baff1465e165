"""Make sense of what callers say in a dialogue: names, corrections, ratings, anger, request kinds.

Numbers (spoken digits, phones, ticket ids) are read by the shared contract (contract.phones,
contract.spoken_numbers), the same way for every process.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from contract.phones import find_phone
from contract.vocabulary import CATEGORIES
from contract.spoken_numbers import (SCORE_UNIT, SPOKEN_DIGITS, digits_in_speech, remove_inter_word_spaces,
                                     score_apart)

# (额 only on its own: 额尔敦 is a name.)
FILLERS = re.compile(r"^(喂+|那个+|就是说?|嗯+|啊+|呃+|哦+|额+(?=[，,。.!！?？、\s]|$)|额{2,}|这个|你好|您好|然后|我说"
                     r"|[，,。.!！?？、\s])+")
_TRAILING = re.compile(r"[，,。.!！?？~、\s]+$")


def clean(text: str) -> str:
    """Strip spoken fillers in front and punctuation at the end."""
    return _TRAILING.sub("", FILLERS.sub("", text.strip()))


_COMPANY_PREFIX = re.compile(
    r"^(?:不对|不是|错了|更正一下)?[，,\s]*(?:我们|我)?(?:的)?(?:公司|单位|企业)?(?:的)?(?:名称|名字|全称|名)?"
    r"(?:应该)?(?:是|叫|叫做|改成|改为|写)?\s*"
)
_NAME_PREFIX = re.compile(
    r"^(?:不对|不是|错了)?[，,\s]*(?:联系人|我的名字|名字|姓名|我)?(?:应该)?(?:是|叫|叫做|姓|改成|改为)?\s*"
)


# How the name of a company or another organisation ends.
ORGANISATION_END = re.compile(
    r"(公司|集团|厂|中心|研究院|研究所|事务所|工作室|商行|门市|店|合作社|协会|学校|大学|学院|医院|银行|园区|基地)")
_ENDS_AS_ORGANISATION = re.compile(ORGANISATION_END.pattern + "$")
_SPELLING_RUN_IN = re.compile(ORGANISATION_END.pattern + r"(?P<how>[\u4e00-\u9fff]{2,7})$")
# Not a company: a question back ("喂？还在吗", "为什么要问公司名"), a refusal (see declines_company),
# or talk that is about something else ("对了还有…", "你自己看着办吧", "我也说不好").
_NOT_A_COMPANY = re.compile(
    r"(吗|么|什么|干嘛|为什么|为啥|\?|？|^喂|不知道|不清楚|说不好|不好说|看着办|随便|对了|还有|不想|不方便|"
    r"不告诉|不透露|不愿|保密|不能说|不说|呢$|真人|是机器|还是机器|机器人吗|你是|你们是|听得|补充|工单|催办|撤销|查询|评价|"
    r"登记|反映)")
_DECLINES_COMPANY = re.compile(r"(不想|不方便|不告诉|不透露|不愿|保密|不能说|不说)")
# "是张伟不是张玮": the value is what comes before the contrast.
_CONTRAST_TAIL = re.compile(r"[，,\s]*(而)?不是.*$")


# A yes, a no or thanks: an answer to another question ("好 谢谢", "是的"), never a name.
_ACKNOWLEDGEMENT = re.compile(r"(好的?|好吧|行|可以|嗯|哦|对|对的|是|是的|没错|谢谢|谢了|多谢|不是|不对|没有|知道了|明白|收到|"
                              r"ok|OK|Ok|[，,。.!！\s])+")
# The caller giving up the report ("算了不报了，我先问问运营商"), whatever follows.
_GIVES_UP = re.compile(r"^(算了|不用了|不报了|不登记了)|(不报了|不登记了|不用登记)")
# How a caller spells out a character after the name: "晟是日成晟", "太阳的阳" (after a space or comma).
_SPELLING = re.compile(r"[\s，,]+(?P<how>[\u4e00-\u9fff]{2,7})$")


def is_acknowledgement(text: str) -> bool:
    """'好 谢谢', '是的', '对': the caller agreeing or thanking, saying nothing else."""
    return bool(_ACKNOWLEDGEMENT.fullmatch(clean(text) or "。"))


def without_spelling(value: str) -> str:
    """'西安鼎晟软件有限公司 晟是日成晟' -> '西安鼎晟软件有限公司', '杨阳 太阳的阳' -> '杨阳': the explanation
    ends with a character of the name and says 是 or 的."""
    match = _SPELLING.search(value) or _SPELLING_RUN_IN.search(value)  # (spaces may be gone: ASR, digits)
    if not match:
        return value
    how, name = match.group("how"), value[:match.start("how")].rstrip("，, ")
    explains = ("是" in how or "的" in how) and how[-1] in name
    return name if explains and name else value


def company_name(text: str) -> Optional[str]:
    """The company name in an answer such as '我们公司叫西安华清科技有限公司'."""
    said = without_spelling(clean(text))
    if (_NOT_A_COMPANY.search(said) and not _ENDS_AS_ORGANISATION.search(said)) or is_acknowledgement(said) \
            or _GIVES_UP.search(said):
        return None  # (a name may hold such words: "西安什么值得买科技有限公司")
    value = _COMPANY_PREFIX.sub("", said, count=1)
    value = re.sub(r"\s+", "", value).removesuffix("的")
    if 2 <= len(value) <= 40 and not value.isdigit():
        return value
    return None


def declines_company(text: str) -> bool:
    """'不方便说单位' / '不想透露公司名': the caller would rather not name the company."""
    return _DECLINES_COMPANY.search(clean(text)) is not None


_CONTRAST_FIRST = re.compile(r"^不是.+?[，,\s]*(而)?(应该)?是(?P<v>.+)$")


def without_contrast(value: str) -> str:
    """'张伟不是张玮' -> '张伟', '不是周敏是周明明' -> '周明明': a correction says the right value and the
    wrong one, in either order."""
    first = _CONTRAST_FIRST.match(value)
    if first:
        return first.group("v")
    return _CONTRAST_TAIL.sub("", value) or value


# Not a name: a question back ("问这个干嘛") or a refusal ("不想说", "保密": see declines_name).
_NOT_A_NAME = re.compile(r"(吗|么|什么|干嘛|为什么|为啥|\?|？|不知道|不清楚|没有名字|不想|不方便|不告诉|保密|不愿|匿名|不留"
                         r"|错了|不对|有误|说过了|刚才说)")  # ("名字写错了", "我刚才说过了": talk about the name)
_DECLINES_NAME = re.compile(r"(不想说|不想告诉|不想留|不方便(说|讲|透露|告诉|留)?|不告诉|保密|不愿意|匿名|不留名|不用(留|写)名)")


def declines_name(text: str) -> bool:
    """'不想说' / '匿名' / '保密': the caller would rather not give a name (a report may be anonymous)."""
    return _DECLINES_NAME.search(clean(text)) is not None


def person_name(text: str) -> Optional[str]:
    """The contact's name in '我叫张伟' / '我姓李' / '王秀兰'."""
    said = without_spelling(clean(text))
    if _NOT_A_NAME.search(said) or is_acknowledgement(said):
        return None
    value = _NAME_PREFIX.sub("", said, count=1)
    value = re.sub(r"\s+", "", value)
    value = re.sub(r"(就行|就可以|吧)$", "", value)
    # A name has letters: Chinese characters (or Latin, "Tom"); "😀😀" or "……" is no name.
    if 1 <= len(value) <= 12 and not re.search(r"\d", value) and re.search(
            r"[\u3400-\u9fff\U00020000-\U0003134fA-Za-z]", unicodedata.normalize("NFKC", value)):
        return value
    return None


# Explicit corrections: "不对，电话是139..."; "公司名改成..."; "联系人是..."
_CORRECTION_START = re.compile(r"^(不对|不是|错了|搞错了|说错了|更正|改一下|改成|应该是|等一下)"
                               # or a field said to be wrong first: "公司名写错了，是…", "类别不对，应该是…"
                               r"|^(公司|单位|企业|联系人|名字|姓名|电话|手机|号码|类别|分类)(名称|名字|全称|名)?"
                               r"(也)?(写错了|说错了|填错了|错了|不对)")
_PHONE_FIELD = re.compile(r"(电话|手机|号码|联系方式|電話|手機|號碼)")
_COMPANY_FIELD = re.compile(r"(公司|单位|企业)(名称|名字|全称|名)?(也)?(写错了|说错了|填错了|错了|不对)?[，,\s]*(应该)?"
                            r"(是|叫|改成|改为|写)(?P<v>.+)")
_NAME_FIELD = re.compile(
    r"(联系人|我的名字|名字|姓名|我叫|我姓)(也)?(写错了|说错了|错了|不对)?[，,\s]*(应该)?(是|叫|改成|改为)?(?P<v>.+)")
# "问题改一下，是园区空调坏了" / "问题应该是…" / "内容改成…": the description, replaced. An edit word must
# follow the field's name: "情况就是这样" or "内容都是正确的" confirm, they do not correct.
_DESCRIPTION_FIELD = re.compile(
    r"(问题|情况|描述|内容|反映的事)(描述)?(要|得|需要)?(改一下|改下|改成|改为|换成|写成|应该是|更正为)"
    r"[，,：:\s]*(是|为|成)?(?P<v>.+)")
# "不对，是空调坏了不是电梯" while another field is asked for: a correction that says what is wrong
# instead ("是 X 不是 Y"), with no field named.
_CONTRAST = re.compile(r"^(不对|错了|搞错了|说错了|更正一下|更正)[，,\s]*(应该)?是(?P<v>.+?(而)?不是.+)$")
# "不对 不是路灯 是园区大门的道闸坏了": the wrong one first, then what it is.
_CONTRAST_REVERSED = re.compile(r"^((不对|错了|搞错了|说错了)[，,\s]*)?不是(?P<wrong>.+?)[，,\s]*(而)?(应该)?是(?P<v>.+)$")
_CATEGORY_FIELD = re.compile(r"(类别|分类|类型|归类|属于)(应该)?(改成|改为|换成|是|为|算)?(?P<v>.+)|(?P<v2>.+?)类的?$")
# A category correction with its field named, which is one at any question ("不对，类别应该是用地规划").
_CATEGORY_NAMED = re.compile(r"(类别|分类|类型)(也)?(写错了|说错了|错了|不对)?[，,\s]*(应该)?(改成|改为|换成|是|为|算)(?P<v>.+)")
# "不是市政设施，是安全消防": a category said against the one read back.
_CATEGORY_CONTRAST = re.compile(r"不是(" + "|".join(CATEGORIES) + r")[，,\s]*(而)?(应该)?是(?P<v>" + "|".join(CATEGORIES)
                                + r")(?P<v2>)")
# "不是市政设施，是供电的问题" at any later question: the category said against the one the bot took,
# with the right one in the caller's own words (at the description question it is the problem itself).
_CATEGORY_AGAINST = re.compile(r"^(不对|错了|说错了)?[，,\s]*不是(" + "|".join(CATEGORIES)
                               + r")(的问题|的事|类|这一?类)?[，,\s]*(而)?(应该)?是(?P<v>.+)")
_LOCATION_FIELD = re.compile(r"(地点|地址|位置|地方)(应该)?(还?没说|忘了说|漏了|补充一下)?[，,：:\s]*(改成|改为|换成|写成|是|在)(?P<v>.+)")
# Where the value of one field ends because the next is named: "…有限公司，联系人是…".
_NEXT_FIELD = re.compile(r"[，,。；;\s]+(?=(?:联系人|名字|姓名|我叫|电话|手机|号码|类别|分类|地址|地点))")
_CONFIRMS = re.compile(r"(没问题|没什么问题|没有问题|正确|对的|提交|没有要改|不用改|就这样)")


_ASCII_PUNCTUATION = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
_ASCII_BESIDE_CJK = re.compile(r"(?<=[\u3400-\u9fff])[,;:!?]|[,;:!?](?=[\u3400-\u9fff])")


def chinese_punctuation(text: str) -> str:
    """Commas and stops beside Chinese text as they were typed (NFKC, which finds the digits, had made
    them ASCII): the department reads the words as the caller wrote them."""
    return _ASCII_BESIDE_CJK.sub(lambda m: _ASCII_PUNCTUATION[m.group()], text)


def corrections(text: str, requested_slot: Optional[str]) -> dict[str, str]:
    """Field values a caller states explicitly, e.g. {'phone': '13991234560'}.

    Applied only when the caller marks a correction (不对…) or we are reading back the form, so a
    description that merely mentions 公司 is never taken for a company name.
    """
    text = clean(digits_in_speech(text))
    if not (_CORRECTION_START.match(text) or requested_slot == "ticket_confirmed"):
        return {}
    found: dict[str, str] = {}
    phone = find_phone(text)
    if phone and _PHONE_FIELD.search(text):
        found["phone"] = phone
    match = _COMPANY_FIELD.search(text)
    rest = text
    if match:
        # "公司是华丰塑业有限公司，联系人是林晓芳": the company ends where the next field is named.
        parts = _NEXT_FIELD.split(match.group("v"), maxsplit=1)
        value, rest = parts[0], (parts[-1] if len(parts) > 1 else "")
        value = company_name(without_contrast(value))
        if value:
            found["company"] = value
    match = _NAME_FIELD.search(rest)
    if match and (rest != text or "company" not in found):
        value = person_name(without_contrast(match.group("v")))
        if value:
            found["contact_name"] = value
    if requested_slot != "ticket_confirmed" and not found and (
            match := _CATEGORY_NAMED.search(text)
            or (requested_slot != "description" and _CATEGORY_AGAINST.match(text))):
        found["category_text"] = clean(match.group("v"))
    if requested_slot == "ticket_confirmed" and not found:
        # At the read-back a bare number is the phone, and the category and place can change too.
        if phone and not _PHONE_FIELD.search(text) and not _CONFIRMS.search(text):
            found["phone"] = phone
        match = _CATEGORY_FIELD.search(text) or _CATEGORY_CONTRAST.search(text) or _CATEGORY_AGAINST.match(text)
        if match:
            found["category_text"] = clean(match.group("v") or match.group("v2"))
        match = _LOCATION_FIELD.search(text)
        if match and len(clean(match.group("v"))) >= 2:
            found["location"] = chinese_punctuation(clean(match.group("v")))
    if found or _CONFIRMS.search(text):
        return found
    match = _DESCRIPTION_FIELD.search(text)
    if match and is_specific(match.group("v")):
        found["description"] = chinese_punctuation(clean(match.group("v")))
    elif requested_slot != "description" and (contrast := _CONTRAST.match(text) or _CONTRAST_REVERSED.match(text)):
        if contrast.re is _CONTRAST_REVERSED:
            # Which field said the wrong one is the form's to see: a name, a company, or the problem.
            found["contrast_wrong"] = clean(contrast.group("wrong"))
            found["contrast_right"] = chinese_punctuation(clean(contrast.group("v")))
        elif is_specific(contrast.group("v")):
            found["description_note"] = chinese_punctuation(clean(contrast.group("v")))  # added as a correction
    return found


# What callers say when asked how satisfied they are, most specific first: a negated praise is
# looked for before the praise inside it ("不是很满意" holds "很满意", "不怎么满意" holds "满意").
_NEGATION = r"(不|没|没有|并不|并没有)(是|太|怎么|大|够|算|很|那么|咋|特别|十分|非常)*"
_RATING_PATTERNS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(p), score) for p, score in [
        (r"不好不坏|不好也不坏|中不溜|还中|中评|中规中矩", 3),  # before the 不好 in them is read as a 2
        (r"(没有|不是|并非|没什么|没有什么)不满意|(没有|不给|不是|没|不打)差评|"  # a double no is a yes
         r"(不给|给不了|不能给|不打|打不了)满分|满分(不给|给不了|不能给|不打|打不了)", 4),  # good, not perfect
        (r"(非常|很|特别|十分|极其|极|太|超级)不满意|一点(都|也)不满意|完全不满意|根本不满意|差评|"
         r"(非常|很|特别|太|极)差|差劲|糟糕|垃圾|烂透|^太?差(了|得很|的很)?$", 1),
        (_NEGATION + r"(满意|好|行|可以)|(说|谈|算)不上(满意|好)|不能说(满意|好)|不给好评|不怎么样|不咋[地滴样]|有点差|"
         r"比较差|挺差|(不|没)(解决|办好|处理好)", 2),
        (r"基本满意|还算满意|还行|还好|一般|凑合|还可以|马马虎虎|过得去|说得过去|勉强|中等|及格", 3),
        (r"(非常|很|特别|十分|十二分|万分|超级|太|相当|真)满意|(非常|特别|十分|超级)好|太好了|五星|满分|好评|"
         r"(很|非常|特别|太|真)棒|完美|点赞|杠杠的|贼好|嫽扎|美滴很", 5),
        (r"满意|不错|挺好|很好|蛮好|比较好|可以|棒|得劲|没麻达", 4),
    ]
]
# Words that hold a no but judge nothing: courtesies ("不好意思"), not knowing what to say ("说不好",
# "不好评价"), and questions back ("好不好", "行不行", "可以吗"), which are asked about again.
_NOT_A_JUDGEMENT = re.compile(r"不好意思|(说|讲)不好|不好(说|讲|评价?|打分)|好不好|行不行|可不可以|满不满意")
_QUESTION_BACK = re.compile(r"(吗|么|呢)[？?]?$|[？?]$")
# A score in digits: with 分/星, after 打/给/评, or the whole answer ("4"). A bare digit elsewhere counts
# something else ("5号楼的问题没解决", "等了3天").
_SCORE = re.compile(rf"(?<![\d.])([1-5])\s*(?:个\s*)?{SCORE_UNIT}(?!\d)|"
                    r"(?:打|给|评|分数|打分)\s*(?:个\s*)?([1-5])(?![\d.号楼层栋户家人位天次个年月日元块])|"
                    r"^\s*(?:就|那就)?\s*([1-5])\s*(?:吧|啊|呀|分吧)?\s*$")
# Numerals that are a score: before 分/星, after 打/给/评 at the end of a phrase ("给个五", "评五"), or the
# whole answer ("三吧"); not the 二 of 十二分 or the 五 of 三点五分.
_SCORE_WORD = re.compile(rf"(?<![十百千万点.])[一二两三四五](?=\s*(?:个\s*)?{SCORE_UNIT})|"
                         r"(?:(?<=打)|(?<=给)|(?<=评)|(?<=分数)|(?<=打分))(?:\s*个)?\s*[一二两三四五](?=\s*(?:吧|啊|呀|$|[，,。！!\s]))|"
                         r"^\s*(?:就|那就)?\s*[一二两三四五](?=\s*(?:吧|啊|呀)?\s*$)")
# "四五分", "三到四分", "4.5分": the lower score (a 3-5 closes the ticket for good).
_RANGE = re.compile(rf"(?<![\d一二两三四五六七八九十零])([一二两三四五1-5])\s*(?:到|至|或者?|-|~|、)?\s*([一二两三四五1-5])"
                    rf"(?=\s*{SCORE_UNIT})|([1-5])\.5(?=\s*{SCORE_UNIT})")
_ZERO = re.compile(r"(?<![\d一二三四五六七八九十百千万点.])[零0]\s*分(?![钟钱])")  # "打零分": the lowest there is
_LONG_NUMBER = re.compile(r"\d{6,}")  # a ticket number or a code, never a score
# A question about the scale itself ("满意是什么意思", "五分是满分吗", "什么叫基本满意") or not having
# understood it is no score, whatever score words it holds: a rating closes the ticket for good.
_ASKS_ABOUT_SCALE = re.compile(r"(满意|分|星|好评|差评|一般)(是|指)?(什么|啥)意思|(什么|啥)叫|满分吗|怎么(算|评分|打分)|"
                               r"有(什么|啥)区别|几分|分制|没听(懂|明白)|听不(懂|明白)|会怎么?样|会怎样|会不会|"
                               r"是不是|的话|对吧|最(好|低|差|高)的?吗|[吗么？?]\s*$")
# A score promised for later is no score now: "要是解决了就给五分", "修好了再给五分".
_CONDITIONAL = re.compile(r"^(要是|如果|假如|等到?|万一)|(了|完)(就|再)(给|打)|再(给|打)")
# A score said only to be refused: "五分都不想给", "不值三分" (a refused 1 is the lowest there is).
_REFUSED_BEFORE = re.compile(r"(不值|不到|不是|没有|不给|不打|不能给|不能打|(?<!分)(?<!星)(?<!好评)(给不了|打不了))\s*(个\s*)?$")
_REFUSED_AFTER = re.compile(r"^\s*((都|也)\s*(不想|不会|不愿意?|不能|不值得?|没法|不给|不打)|(都|也)?\s*(给不了|打不了|"
                            r"不可能|不至于|不够))")
# The top of the scale, not a score, when another score follows: "最高五分我给四分", "满分五分给三分".
_SCALE_BEFORE = re.compile(r"(最高|满分|最多)\s*$")
# A correction between two scores: "打五分 不 打一分", "三分 不对 四分" (not "四分，不是两分").
_CORRECTED = re.compile(r"(不对|说错了?|改成|改为|算了|还是|不|但是?|可是|只能|现在|最后)[\s，,。]*(就|只能)?(打|给|评)?\s*$")


def rating_score(text: str) -> Optional[int]:
    """1..5 from '五分', '4', '非常满意', '不是很满意'… (5 非常满意 … 1 非常不满意). A number wins over
    words ("三分吧，不太满意" is 3), the first one said unless corrected ("打五分 不 打一分" is 1), and a
    number refused ("五分都不想给") is none; words are read with their negation; a question back, a
    question about the scale or words that judge nothing ("不好意思", "说不好") are no score."""
    typed = _typed(text)
    if _no_score_now(typed):
        return None
    number = _number_score(typed)
    if number is not None:
        return number
    words = _NOT_A_JUDGEMENT.sub("", remove_inter_word_spaces(typed))
    if _QUESTION_BACK.search(clean(words)) and not re.search(r"(满意|不错|好评|差评)", words):
        return None
    for pattern, score in _RATING_PATTERNS:
        if pattern.search(words):
            return score
    return None


def _typed(text: str) -> str:
    """NFKC (full-width digits), ticket numbers and codes blanked before digit groups join."""
    return _LONG_NUMBER.sub(" ", score_apart(unicodedata.normalize("NFKC", text or "")))


def _no_score_now(typed: str) -> bool:
    """A question about the scale or a score promised for later, whatever score words it holds."""
    words = remove_inter_word_spaces(typed)
    return bool(_ASKS_ABOUT_SCALE.search(words) or _CONDITIONAL.search(words))


def _numerals_as_digits(typed: str) -> str:
    """The turn with its score numerals as digits, long numbers blanked, a range as its lower end."""
    said = score_apart(digits_in_speech(typed.replace("一分一秒", " ")))
    said = _LONG_NUMBER.sub(" ", said).strip()
    said = _RANGE.sub(lambda m: m.group(3) or min(SPOKEN_DIGITS.get(m.group(1), m.group(1)),
                                                  SPOKEN_DIGITS.get(m.group(2), m.group(2))), said)
    said = _SCORE_WORD.sub(lambda m: m.group(0)[:-1] + SPOKEN_DIGITS[m.group(0)[-1]], said)
    return _ZERO.sub("1分", said)


def _number_score(typed: str) -> Optional[int]:
    """The score said as a number ("五分", "打3", "两颗星"): the first one, unless corrected ("打五分，不，
    打一分" is 1); a number refused ("五分都不想给") is none. `typed`: NFKC, long numbers blanked."""
    said = _numerals_as_digits(typed)
    chosen, scale = None, None
    for match in _SCORE.finditer(said):
        group = next(i for i, g in enumerate(match.groups(), 1) if g and g.isdigit())
        score = int(match.group(group))
        refused = _REFUSED_BEFORE.search(said[:match.start(group)]) or _REFUSED_AFTER.search(said[match.end():])
        if refused:
            if score == 1:
                return 1  # "一分都不想给": not even the lowest
            continue
        if _SCALE_BEFORE.search(said[:match.start()]):
            scale = score
        elif chosen is None or _CORRECTED.search(said[chosen[0].end():match.start()]):
            chosen = (match, score)
    return chosen[1] if chosen else scale


def states_a_score(text: str) -> bool:
    """Whether the turn gives a score as a number beside whatever else it says ("工单2612020002 五分"):
    such a turn rates the ticket, even when the NLU heard only a ticket number in it."""
    typed = _typed(text)
    if not re.search(rf"(?<![\d.])[1-5]\s*(个\s*)?{SCORE_UNIT}", _numerals_as_digits(typed)) or _no_score_now(typed):
        return False  # only a score with its 分 or 星: "给2612020002打个电话" is no rating
    return _number_score(typed) is not None


_ANGER = re.compile(
    r"(气死|火大|受够|忍无可忍|骂人|什么破|破机器|垃圾(热线|机器|服务|客服|系统)|什么垃圾|真垃圾|太垃圾|"
    r"混蛋|干什么吃的|吃干饭|太差劲|烦死|"
    r"去媒体|曝光|没人管是吧|到底管不管|什么玩意|听不懂人话|是不是聋|(你|你们).{0,3}聋|(你|你们|真是|一群|一帮|什么)(个|是)?(废物|饭桶)|废物(机器|客服|系统|热线))"
)


def sounds_angry(text: str) -> bool:
    """Clear signs of an angry caller; such callers go to a person instead of a form."""
    return bool(_ANGER.search(text or ""))


_KINDS = [
    ("举报", "report"), ("投诉", "complaint"), ("投拆", "complaint"), ("表扬", "praise"),
    ("点赞", "praise"), ("建议", "suggestion"), ("意见", "suggestion"), ("咨询", "consult"),
]


_KIND_WORD = "(咨询|求助|投诉|举报|建议|表扬)"
# "不是投诉，是举报", "是举报不是投诉", "不对，改成举报": the request's kind corrected, nothing else.
_KIND_CORRECTED = re.compile(rf"不是{_KIND_WORD}[，,\s]*(而)?(应该)?(是|算|按)(?P<to>{_KIND_WORD[1:-1]})|"
                             rf"是(?P<to2>{_KIND_WORD[1:-1]})[，,\s]*(而)?不是{_KIND_WORD}|"
                             rf"^(不对|错了)?[，,\s]*(改成|改为|换成|按)(?P<to3>{_KIND_WORD[1:-1]})(来|登记|吧|处理)*$")


def without_kind_correction(text: str) -> str:
    """What else was said with a kind's correction ("是建议不是投诉 希望园区多装几个充电桩")."""
    return _KIND_CORRECTED.sub("", text).strip(" ，,。；;")


def corrected_kind(text: str) -> Optional[str]:
    """The request kind a correction names ("不对 不是投诉 是举报" -> report), else None."""
    match = _KIND_CORRECTED.search(clean(text))
    if not match:
        return None
    return request_kind(match.group("to") or match.group("to2") or match.group("to3"))


# A question about rules, not a problem: "我想问一下增值税减免的政策", "申请补贴需要什么条件".
_ASKS = re.compile(r"问一下|问问|请问|想问|了解一下|想了解|需要什么|要什么|怎么申请|如何申请|怎么办理|如何办理|哪些|有没有")
_ABOUT_RULES = re.compile(r"政策|条件|流程|材料|手续|补贴|资质|申报|优惠|标准|规定|办理|资格")
# A fault or a delay asked about is a problem, not a question about rules ("请问补贴一直没发下来怎么回事").
_GOES_WRONG = re.compile(r"坏|没(发|到|给|有人|人管|下来)|不给|超标|堵|一直|拖|卡了|怎么回事|漏|停|不通|谁管")


def request_kind(text: str) -> str:
    """The contract's request kind implied by the wording; 咨询 for a question about rules, 求助 (help)
    when nothing says otherwise."""
    for word, kind in _KINDS:
        if word in text:
            return kind
    if _ASKS.search(text) and _ABOUT_RULES.search(text) and not _GOES_WRONG.search(text):
        return "consult"
    return "help"


_GENERIC = re.compile(
    r"(我|我们|想|要|需要|有|个|一个|一下|反映|反应|投诉|举报|建议|报|问题|事情|事儿|事|情况|诉求|"
    r"登记|提|发布|供需|信息|中介|服务|超市|找|请问|怎么|弄|帮|忙|你好|您好|喂|那个|就是|这个|的|了|吧|啊|呢|"
    r"[，,。.!！?？、\s])"
)


# A lead-in to what will be said: "是这样的，我跟你说一下", "情况是这样", "听我说".
_PREAMBLE = re.compile(r"(是这样的?|情况是这样的?|事情是这样的?|怎么说呢|听我说|我(跟|和|给)(你|您)(说|讲)(一下|一说)?|"
                       r"我(说|讲)(一下|一说)|我先说一下|你听我说|跟你说)")


def is_specific(description: str) -> bool:
    """Does the text say what happened, or only that the caller has something to say?"""
    return len(_GENERIC.sub("", _PREAMBLE.sub("", description or ""))) >= 4
