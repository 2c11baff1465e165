"""Reading the latest message: entities as the form uses them."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.conversation import entity, user_turns


def tracker_saying(text: str, entities: list[dict]) -> Tracker:
    latest = {"text": text, "intent": {"name": "report_problem", "confidence": 1.0}, "entities": entities}
    return Tracker("t", {}, latest, [], False, None, {}, "action_listen")


def span(text: str, name: str, piece: str, value: str | None = None) -> dict:
    start = text.index(piece)
    return {"entity": name, "start": start, "end": start + len(piece), "value": value or piece}


def test_a_name_the_model_cut_in_two_is_joined_back():
    said = "我是西安华清科技有限公司的李明"
    cut = [span(said, "company", "西安"), span(said, "company", "华清科技有限公司"), span(said, "person", "李明")]
    assert entity(tracker_saying(said, cut), "company") == "西安华清科技有限公司"
    assert entity(tracker_saying(said, cut), "person") == "李明"


def test_names_apart_in_the_text_or_mapped_to_a_synonym_stay_apart():
    said = "西安华清公司 和 西安鼎新公司"
    apart = [span(said, "company", "西安华清公司"), span(said, "company", "西安鼎新公司")]
    assert entity(tracker_saying(said, apart), "company") == "西安华清公司"
    said = "停电 路灯"
    mapped = [span(said, "category", "停电", "供水供电供气"), span(said, "category", "路灯", "市政设施")]
    assert entity(tracker_saying(said, mapped), "category") == "供水供电供气"
    assert entity(tracker_saying(said, []), "company") is None


def test_an_earlier_say_again_is_not_one_of_the_callers_words():
    said = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}
            for text, intent in (("停电了", "report_problem"), ("你说什么", "ask_repeat"), ("整个厂区都停了", "inform"))]
    tracker = Tracker("t", {}, said[-1], said, False, None, {}, "action_listen")
    assert user_turns(tracker) == ["停电了", "整个厂区都停了"]
    asking = Tracker("t", {}, said[1], said[:2], False, None, {}, "action_listen")
    assert user_turns(asking) == ["停电了", "你说什么"]  # the turn being answered is always there
