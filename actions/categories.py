"""Infer a ticket's category from the caller's words, using the same vocabulary file as the NLU.

data/nlu/categories.yml is the single place where operators say which words mean which category;
the labels themselves are the contract's (contract.vocabulary.CATEGORIES).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from actions.spoken import is_specific
from contract.vocabulary import CATEGORIES, OTHER_CATEGORY


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


def names_a_problem(text: str, path: Path) -> bool:
    """Whether the text says what went wrong ("三号楼前面的路灯全不亮了"), whatever else it holds (a
    company, a name, a phone): a report however the NLU classified it."""
    category = infer_category(text, path)
    return bool(category and category != OTHER_CATEGORY and is_specific(text))


def category_from_answer(text: str, path: Path) -> Optional[str]:
    """A category named in an answer to 'which category?' (其他 / 不知道 count as 其他)."""
    found = infer_category(text, path)
    if found:
        return found
    if any(word in text for word in ("其他", "其它", "不知道", "不清楚", "都不是", "说不好")):
        return OTHER_CATEGORY
    return None
