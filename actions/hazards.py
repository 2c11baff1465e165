"""Danger to life in a report: what to do first, before any form question.

A caller reporting a fire or a gas leak to the enterprise hotline must hear "call 119, get out" at
once; the report is still filed, because the department follows such incidents up. Each kind of
advice is said once in a conversation (the caller hears it again on "再说一遍"). The patterns want a
sign of danger now: a chimney that smokes, a sewer that smells or a fire-alarm company is a report
like any other, and wrong advice ("close the gas valve" for a sewer) is worse than none.
"""
from __future__ import annotations

import re
from typing import Iterable

from rasa_sdk import Tracker

_GAS = r"(燃气|煤气|天然气|液化气)"
# Most specific first: a smoking transformer is an electrical danger, not a house fire.
_HAZARDS: list[tuple[str, re.Pattern[str]]] = [
    ("electric", re.compile(r"触电|漏电|电线(被)?.{0,3}(掉|断|落|垂|裸露|搭在)|高压线.{0,3}(掉|断|落)|"
                            r"(电线|电缆|变压器|配电箱|配电柜|电箱|电表箱).{0,6}(冒烟|起火|着火|火花|爆炸|炸了)")),
    ("gas", re.compile(_GAS + r"(管道?|罐|表|阀门?)?.{0,8}(漏|泄)|" + _GAS + r"的?(味|气味)|一氧化碳")),
    ("fire", re.compile(r"着火|起火|失火|火灾(?!险|隐患|报警|保险|演练|预防)|烧起来|火(很|好|特别|太)大|火势|"
                        r"发生(了)?爆炸|爆炸了|(楼|房|厂房|车间|仓库|屋|宿舍|办公室)(里|内)?.{0,4}(冒浓?烟|浓烟)")),
    ("chemical", re.compile(r"(化学品|危化品|危险品|有毒|毒气|氨气|氯气|硫化氢|化工|试剂|农药).{0,8}"
                            r"(泄漏|泄露|漏了|外溢|(?<!喷)洒了|挥发)")),
    ("collapse", re.compile(r"塌陷|塌方|坍塌|(墙|楼|房顶|屋顶|天花板).{0,4}塌了|塌了.{0,6}(大坑|大洞|车|人)|"
                            r"(井盖|窨井).{0,6}(没了|丢了|不见了|掉了|缺了)")),
    ("injury", re.compile(r"受伤|受了?重伤|摔(伤|下来|断)|从.{1,8}(摔|掉|跌)下来|(在|直)流血|昏迷|晕倒|人被砸|砸伤|"
                          r"被困|困人|困在|伤亡|出人命|被车撞|撞伤|中毒|(有人|人|工人|员工)触电|(有人|员工|工人)(头晕|晕了|呼吸困难|喘不上气)")),
]
# "以前着过火", "有没有火灾隐患", "消防演练": no danger now, in that clause.
_NOT_NOW = re.compile(r"隐患|演练|预防|防范|以前|去年|上次|万一|会不会|怎么防|培训|保险|理赔|风险|担心|可能|怕")
_CLAUSE = re.compile(r"[，,。.；;！!？?\s]+")


def hazards_in(text: str) -> list[str]:
    """The kinds of immediate danger the text reports (electric, gas, fire, injury), most specific first;
    an electrical or gas fire is not told the house-fire advice twice."""
    clauses = [c for c in _CLAUSE.split(text or "") if c and not _NOT_NOW.search(c)]
    found = [kind for kind, pattern in _HAZARDS if any(pattern.search(c) for c in clauses)]
    if "fire" in found and ("electric" in found or "gas" in found or "chemical" in found):
        found.remove("fire")
    if "chemical" in found:  # (its advice says 120 for who feels ill)
        found = [kind for kind in found if kind != "injury"]
    return found


# The category a danger makes plain, so that a caller who was just told to leave the building is not
# read the list of twelve.
CATEGORY_OF = {"fire": "安全消防", "chemical": "安全消防", "gas": "供水供电供气", "electric": "供水供电供气",
               "collapse": "市政设施"}


def hazard_category(text: str) -> str | None:
    """The category of the first danger the text reports that has one, else None; someone hurt makes
    it a matter of safety (a worker hurt by a wire is not a power supply question)."""
    found = hazards_in(text)
    if "injury" in found and any(kind in CATEGORY_OF for kind in found):
        return "安全消防"
    return next((CATEGORY_OF[kind] for kind in found if kind in CATEGORY_OF), None)


def advice_due(tracker: Tracker, text: str) -> Iterable[str]:
    """The responses (utter_safety_<kind>) to say before the form goes on: each kind once a conversation."""
    said = {(event.get("metadata") or {}).get("utter_action") for event in tracker.events if event.get("event") == "bot"}
    return [f"utter_safety_{kind}" for kind in hazards_in(text) if f"utter_safety_{kind}" not in said]
