"""Danger to life in a report: what to do first, before any form question.

A caller reporting a fire or a gas leak to the enterprise hotline must hear "call 119, get out" at
once; the report is still filed, because the department follows such incidents up. Each kind of
advice is said once in a conversation (the caller hears it again on "再说一遍").
"""
from __future__ import annotations

import re
from typing import Iterable

from rasa_sdk import Tracker

# Most specific first: a smoking transformer is an electrical danger, not a house fire.
_HAZARDS: list[tuple[str, re.Pattern[str]]] = [
    ("electric", re.compile(r"触电|漏电|电线(被)?(掉|断|落|垂|裸露|搭)|高压线(掉|断|落)|"
                            r"(电线|电缆|变压器|配电箱|配电柜|电箱|电表箱).{0,6}(冒烟|起火|着火|火花|爆炸|炸了)")),
    ("gas", re.compile(r"(燃气|煤气|天然气|液化气)(管道?|罐|表|阀门?)?.{0,8}(漏|泄|味)|漏气|气味很?(大|重|呛)")),
    ("fire", re.compile(r"着火|起火|失火|火灾|烧起来|冒烟|浓烟|烟(很|好|特别|太)大|火(很|好|特别|太)大|火势|爆炸|炸了")),
    ("injury", re.compile(r"有人受伤|人受伤|受了?重伤|(在|直)?流血|昏迷|晕倒|被砸|被困|伤亡|出人命")),
]
# "以前着过火", "有没有火灾隐患", "消防演练": no danger now.
_NOT_NOW = re.compile(r"隐患|演练|预防|防范|以前|去年|上次|万一|会不会|怎么防|培训")


def hazards_in(text: str) -> list[str]:
    """The kinds of immediate danger the text reports (electric, gas, fire, injury), most specific first;
    an electrical or gas fire is not told the house-fire advice twice."""
    if not text or _NOT_NOW.search(text):
        return []
    found = [kind for kind, pattern in _HAZARDS if pattern.search(text)]
    if "fire" in found and ("electric" in found or "gas" in found):
        found.remove("fire")
    return found


def advice_due(tracker: Tracker, text: str) -> Iterable[str]:
    """The responses (utter_safety_<kind>) to say before the form goes on: each kind once a conversation."""
    said = {(event.get("metadata") or {}).get("utter_action") for event in tracker.events if event.get("event") == "bot"}
    return [f"utter_safety_{kind}" for kind in hazards_in(text) if f"utter_safety_{kind}" not in said]
