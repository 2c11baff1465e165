"""Which department handles which category by default.

Every new ticket is given the department that usually owns its category, so the caller can be
told at once who will handle it and the operator only has to confirm the dispatch (派单) or pick
another department.
The names follow the Xi'an High-tech Zone administrative committee's departments.
"""
from __future__ import annotations

from typing import Mapping

DEFAULT_DEPARTMENTS: Mapping[str, str] = {
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


def department_for(category: str) -> str:
    return DEFAULT_DEPARTMENTS.get(category, DEFAULT_DEPARTMENTS["其他"])
