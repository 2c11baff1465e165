"""Infer a ticket's category from the caller's words, using the same vocabulary file as the NLU.

data/nlu/categories.yml is the single place where operators say which words mean which category;
the labels themselves are the contract's (contract.vocabulary.CATEGORIES).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from contract.vocabulary import CATEGORIES, OTHER_CATEGORY

# "刚才不是说了吗，路灯坏了": a reproach, not a question.
_ALREADY_SAID = re.compile(r"(刚才|之前|我)?(不是)?(已经)?(说|讲)(过|了)+(吗|嘛|啊)?[，,！!？?\s]*")
_QUESTION = re.compile(r"(吗|么|什么|怎么|怎样|哪|谁|为什么|为啥|如何|\?|？)")


@lru_cache(maxsize=4)
def keyword_map(path: Path) -> dict[str, str]:
    """word -> category label, from the `synonym:` blocks of the NLU file (labels map to themselves)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    words: dict[str, str] = {label: label for label in CATEGORIES}
    for block in data.get("nlu", []):
        label = block.get("synonym")
        if label in CATEGORIES:
            for line in str(block.get("examples", "")).splitlines():
                word = line.strip().removeprefix("- ").strip()
                if word:
                    words[word] = label
    return words


def infer_category(text: str, path: Path) -> Optional[str]:
    """The category whose longest keyword occurs in the text; earliest occurrence breaks ties."""
    best: tuple[int, int, str] | None = None
    for word, label in keyword_map(path).items():
        position = text.find(word)
        if position >= 0:
            candidate = (-len(word), position, label)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


# Who is speaking, which says nothing about the problem ("西安供电设备有限公司" names no power cut):
# organisations' names, "我是/我叫/我姓 X", phone numbers.
_INTRODUCTION = re.compile(
    r"[\u4e00-\u9fa5A-Za-z0-9（）()]{2,38}?(有限责任公司|有限公司|股份公司|公司|集团|厂|研究院|研究所|事务所|工作室|"
    r"商行|合作社|协会)|(我是|我叫|我姓|联系人是?|姓名是?)[\u4e00-\u9fa5]{1,4}|(电话|手机|号码)(是|为)?[\d\s-]{7,}|[\d\s-]{7,}")


def names_a_problem(text: str, path: Path) -> bool:
    """Whether the text says what went wrong ("三号楼前面的路灯全不亮了"), whatever else it holds (a
    company, a name, a phone): a report however the NLU classified it. Judged without the caller's
    introduction, and never for a question ("停电了找谁？" asks, it does not report)."""
    problem = _ALREADY_SAID.sub("，", _INTRODUCTION.sub("，", text))
    if _QUESTION.search(problem):
        return False
    category = infer_category(problem, path)
    return bool(category and category != OTHER_CATEGORY and len(re.sub(r"[\W_]", "", problem)) >= 3)


def category_from_answer(text: str, path: Path) -> Optional[str]:
    """A category named in an answer to 'which category?' (其他 / 不知道 count as 其他)."""
    found = infer_category(text, path)
    if found:
        return found
    if any(word in text for word in ("其他", "其它", "不知道", "不清楚", "都不是", "说不好")):
        return OTHER_CATEGORY
    return None
