"""How tickets are put into words for a caller: numbers grouped, statuses and dates in Chinese."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from actions.spoken import group_digits

STATUS_WORDS = {
    "received": "已受理，正在等待派单",
    "assigned": "已派单",
    "in_progress": "正在办理中",
    "resolved": "已办结",
    "closed": "已办结并完成评价",
    "cancelled": "已撤销",
}
KIND_WORDS = {"consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
              "suggestion": "建议", "praise": "表扬"}


def spoken_date(value: Optional[str]) -> Optional[str]:
    """'2026-12-04T17:00:00+08:00' -> '12月4日'."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return f"{moment.month}月{moment.day}日"


def ticket_number(ticket_id: str) -> str:
    return group_digits(str(ticket_id))


def filed(ticket: dict[str, Any]) -> str:
    number = ticket_number(ticket["id"])
    deadline = spoken_date(ticket.get("deadline"))
    limit = f"承办部门会在{deadline}前办理答复，" if deadline else "承办部门会限时办理答复，"
    return (
        f"已经为您登记好了，工单编号是 {number}，我再重复一遍：{number}。"
        f"{limit}您可以随时打96767凭编号查询进度。"
    )


def status(ticket: dict[str, Any]) -> str:
    """One ticket's state in a sentence a caller can follow."""
    number = ticket_number(ticket["id"])
    words = STATUS_WORDS.get(ticket.get("status", ""), ticket.get("status", "状态未知"))
    parts = [f"工单 {number} {words}"]
    if ticket.get("department") and ticket.get("status") not in ("received", "cancelled"):
        parts.append(f"承办部门是{ticket['department']}")
    deadline = spoken_date(ticket.get("deadline"))
    if deadline and ticket.get("status") in ("received", "assigned", "in_progress"):
        parts.append(f"办理期限是{deadline}")
    if ticket.get("overdue"):
        parts.append("目前已经超期，我们会督办")
    return "，".join(parts) + "。"


def brief(ticket: dict[str, Any]) -> str:
    """Short identification: number plus the start of the description."""
    text = str(ticket.get("description") or "")
    text = text[:16] + ("…" if len(text) > 16 else "")
    return f"{ticket_number(ticket['id'])}（{text}）" if text else ticket_number(ticket["id"])
