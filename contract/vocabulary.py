"""The fixed words of the contract (statuses, kinds, categories, channels, ratings) with their
Chinese labels, and which department usually handles which category.

Every process reads them from here: the issue API validates against them, the actions infer and
read them out, the console fills its selects from them. data/nlu/categories.yml maps callers'
words onto the category labels and is checked against CATEGORIES by the tests.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Tuple

STATUS_LABELS: Mapping[str, str] = {
    "received": "已受理",
    "assigned": "已派单",
    "in_progress": "办理中",
    "resolved": "已办结",
    "closed": "已评价归档",
    "cancelled": "已撤销",
}
OPEN_STATUSES: Tuple[str, ...] = ("received", "assigned", "in_progress")
RESOLVED_STATUSES: Tuple[str, ...] = ("resolved", "closed")

KIND_LABELS: Mapping[str, str] = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
DEFAULT_KIND = "help"

CATEGORIES: Tuple[str, ...] = (
    "供水供电供气",
    "用地规划",
    "审批办证",
    "税费政策",
    "融资金融",
    "人才落户",
    "市政设施",
    "环境噪音",
    "物业园区",
    "网络通信",
    "安全消防",
    "其他",
)
OTHER_CATEGORY = "其他"

CHANNELS: Tuple[str, ...] = ("voice", "web", "operator", "api")
DEFAULT_CHANNEL = "api"
# Where the reporter gave a rating (the rating body's optional `channel`), as the ticket's history
# says it: a rating is always the reporter's, whoever's account passed it on.
RATING_CHANNEL_LABELS: Mapping[str, str] = {
    "web": "网页对话中评价",
    "voice": "电话中评价",
    "operator": "坐席代为录入",
    "api": "接口录入",
}
# The history's actor of a rating: the reporter, not the account that passed it on.
REPORTER_ACTOR = "reporter"

# Ticket ids (contract): digits only, 8 to 12, read out on the phone. ASCII digits: Python's \d also takes
# "١٢٣٤٥٦٧٨" and other scripts' digits, which no ticket has and no caller can key.
TICKET_ID_PATTERN = "[0-9]{8,12}"
_TICKET_ID = re.compile(TICKET_ID_PATTERN)


def is_ticket_id(value: object) -> bool:
    """Whether `value` is a ticket id as the contract writes one (no surrounding space, no newline)."""
    return isinstance(value, str) and _TICKET_ID.fullmatch(value) is not None


# Characters the issue API keeps of a long text (description, supplement, result, note): the bot
# asks for a shorter one rather than have the filing refused after the read-back.
LONG_TEXT_MAX = 2000
# Characters the issue API keeps of a short text (a reason, a rating comment).
SHORT_TEXT_MAX = 500
# The longest value of each field of a report the issue API takes: the bot checks them before it
# promises anything (a report queued during an outage must not be refused when it is delivered).
REPORT_FIELD_MAX: Mapping[str, int] = {
    "company": 100,
    "contact_name": 50,
    "location": 200,
    "description": LONG_TEXT_MAX,
}

RATING_LABELS: Mapping[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
REWORK_MAX_SCORE = 2  # 不满意 or worse sends the ticket back for rework (重办)

ACTION_LABELS: Mapping[str, str] = {
    "filed": "受理登记",
    "assigned": "派单",
    "started": "开始办理",
    "supplemented": "补充材料",
    "urged": "催办",
    "cancelled": "撤销",
    "resolved": "办结",
    "rated": "评价",
    "reworked": "退回重办",
    "closed": "评价归档",
    "noted": "办理进展",
    "extension_requested": "申请延期",
    "extension_approved": "同意延期",
    "extension_rejected": "驳回延期",
    "return_requested": "申请退回",
    "return_approved": "同意退回",
    "return_rejected": "驳回退回",
    "review_withdrawn": "申请失效",
    "callback_done": "回访完成",
    "callback_failed": "回访失败",
}

# A department's requests to the operators (审核): a later deadline, or handing the ticket back.
REVIEW_TYPE_LABELS: Mapping[str, str] = {
    "extension": "延期申请",
    "return": "退回申请",
}
# "withdrawn": the ticket was resolved, cancelled or reassigned while the request waited, which
# made it moot; nobody decided it.
REVIEW_STATUS_LABELS: Mapping[str, str] = {
    "pending": "待审核",
    "approved": "已同意",
    "rejected": "已驳回",
    "withdrawn": "已失效",
}

# 回访: the satisfaction call (or web prompt) after 办结.
CALLBACK_STATUS_LABELS: Mapping[str, str] = {
    "pending": "待回访",
    "calling": "回访中",
    "done": "已回访",
    "failed": "回访失败",
    "cancelled": "已取消",
}
CALLBACK_OUTCOME_LABELS: Mapping[str, str] = {
    "no_answer": "无人接听",
    "busy": "占线",
    "failed": "呼叫失败",
    "no_rating": "未完成评价",
    "declined": "拒绝评价",
}

# Why a conversation came to the operators' queue, as the console shows it: the keys are the handoff
# reasons (contract.messages.HANDOFF_REASONS); a reason not listed is shown as HANDOFF_REASON_OTHER,
# never as its code.
HANDOFF_REASON_LABELS: Mapping[str, str] = {
    "caller_request": "用户要求转人工",
    "angry": "用户情绪激动",
    "not_understood": "智能助手多次未能理解",
    "bot_unavailable": "智能助手暂时无法回复",
}
HANDOFF_REASON_OTHER = "其他原因"

# Ticket fields as people name them (validation errors read back to callers and operators).
FIELD_LABELS: Mapping[str, str] = {
    "company": "单位名称",
    "contact_name": "联系人姓名",
    "phone": "联系电话",
    "category": "问题类别",
    "description": "问题描述",
    "kind": "诉求类型",
    "location": "地点",
    "text": "补充内容",
    "reason": "撤销原因",
    "score": "评分",
    "comment": "评价意见",
    "note": "说明",
    "result": "办理结果",
    "department": "承办部门",
    "*": "填写的信息",
}

# The department that usually owns each category (Xi'an High-tech Zone administrative committee):
# a new ticket is proposed to it, and an operator reassigning a ticket sees it suggested.
DEPARTMENT_FOR_CATEGORY: Mapping[str, str] = {
    "供水供电供气": "市政公用服务中心",
    "用地规划": "自然资源和规划局",
    "审批办证": "行政审批服务局",
    "税费政策": "财政局(税费服务专席)",
    "融资金融": "金融服务办公室",
    "人才落户": "人才服务中心",
    "市政设施": "城市管理和综合执法局",
    "环境噪音": "生态环境局",
    "物业园区": "住房和建设局(物业园区科)",
    "网络通信": "科技和工业信息化局",
    "安全消防": "应急管理局",
    "其他": "企业服务中心",
}
DEPARTMENTS: Tuple[str, ...] = tuple(dict.fromkeys(DEPARTMENT_FOR_CATEGORY.values()))


def department_for(category: str) -> str:
    """The usual department of a category; the general enterprise service centre otherwise."""
    return DEPARTMENT_FOR_CATEGORY.get(category, DEPARTMENT_FOR_CATEGORY[OTHER_CATEGORY])


def fit_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """`report` with every text cut to REPORT_FIELD_MAX (marked with "…") and an unknown category or
    kind replaced by 其他 / the default: what can always be filed of a report that was promised."""
    fitted = dict(report)
    for field, most in REPORT_FIELD_MAX.items():
        value = fitted.get(field)
        if isinstance(value, str) and len(value) > most:
            fitted[field] = value[:most - 1] + "…"
    if fitted.get("category") not in CATEGORIES:
        fitted["category"] = OTHER_CATEGORY
    if "kind" in fitted and fitted["kind"] not in KIND_LABELS:
        fitted["kind"] = DEFAULT_KIND
    return fitted
