"""The fixed words of the contract (statuses, kinds, categories, channels) and their Chinese labels."""
from __future__ import annotations

from typing import Mapping, Tuple

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

CHANNELS: Tuple[str, ...] = ("voice", "web", "operator", "api")
DEFAULT_CHANNEL = "api"

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
}
