"""The contract's words exist once: the issue API, the NLU data, the console and the widget use them."""
from __future__ import annotations

import re

import yaml

from bot.gateway.pages import VOCABULARY, widget_source
from contract import vocabulary
from contract.replies import reply
from contract.settings import REPO_ROOT

CONTRACT = REPO_ROOT.parent / "shared" / "spec" / "contract.md"


def test_categories_kinds_and_statuses_are_the_contracts() -> None:
    assert len(vocabulary.CATEGORIES) == 12 and vocabulary.CATEGORIES[-1] == "其他"
    assert set(vocabulary.KIND_LABELS) == {"consult", "help", "complaint", "report", "suggestion", "praise"}
    assert set(vocabulary.STATUS_LABELS) == {"received", "assigned", "in_progress", "resolved", "closed", "cancelled"}
    if CONTRACT.exists():  # the prose contract beside the repository, where it is checked out
        text = CONTRACT.read_text(encoding="utf-8")
        assert all(label in text for label in vocabulary.CATEGORIES)
        assert all(f"`{status}` ({label})" in text for status, label in vocabulary.STATUS_LABELS.items())


def test_every_category_has_a_department_and_the_nlu_maps_words_to_contract_labels_only() -> None:
    assert set(vocabulary.DEPARTMENT_FOR_CATEGORY) == set(vocabulary.CATEGORIES)
    nlu = yaml.safe_load((REPO_ROOT / "data" / "nlu" / "categories.yml").read_text(encoding="utf-8"))
    synonyms = {block["synonym"] for block in nlu["nlu"] if "synonym" in block}
    assert synonyms <= set(vocabulary.CATEGORIES)


def test_the_category_question_names_every_category() -> None:
    question = reply("utter_ask_category")
    assert all(label in question for label in vocabulary.CATEGORIES)


def test_pages_take_their_labels_from_the_vocabulary() -> None:
    assert VOCABULARY["categories"] == list(vocabulary.CATEGORIES)
    assert '"非常满意"' in widget_source() and "__HOTLINE_" not in widget_source()
    static = REPO_ROOT / "bot" / "gateway"
    # (demo.html is the platform's own page: its prose may name a category.)
    for path in [*static.glob("static/*.js"), *(p for p in static.glob("templates/*.html") if p.name != "demo.html")]:
        source = path.read_text(encoding="utf-8")
        copies = [label for label in (*vocabulary.CATEGORIES[:-1], *vocabulary.STATUS_LABELS.values(), "基本满意")
                  if re.search(re.escape(label), source)]
        assert not copies, f"{path.name} keeps its own copy of {copies}"


def test_a_ticket_id_is_8_to_12_ascii_digits_and_nothing_around_them() -> None:
    assert all(vocabulary.is_ticket_id(v) for v in ("26112700", "261127000112"))
    for odd in ("2611270", "2611270001123", "١٢٣٤٥٦٧٨", "２６１１２７００", "26112700\n", " 26112700", "²6112700",
                26112700, None):
        assert not vocabulary.is_ticket_id(odd), odd
