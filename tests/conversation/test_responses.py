"""Responses whose wording depends on slots, rendered by Rasa's own generator from domain.yml."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from tests.support.aio import run

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
FILED = {"ticket_number": "2612 0100 01", "query_code": "308567", "deadline": "12月8日"}


def said(response: str, channel: str, kind: Optional[str]) -> str:
    events = [SlotSet("kind", kind)] if kind else []
    tracker = DialogueStateTracker.from_events("test", events, slots=DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return run(nlg.generate(response, tracker, channel, **FILED))["text"]


@pytest.mark.parametrize("channel", ["rest", "voice"])
def test_a_praise_is_thanked_not_given_a_deadline(channel: str) -> None:
    praise = said("utter_filed", channel, "praise")
    assert "2612 0100 01" in praise and "308567" in praise and "感谢您的表扬" in praise
    assert "前办理答复" not in praise
    for kind in ("help", "complaint", None):
        assert "12月8日前办理答复" in said("utter_filed", channel, kind)


def test_the_phone_repeats_the_number_and_says_the_code_once_offering_to_say_it_again() -> None:
    assert said("utter_filed", "voice", "praise").count("2612 0100 01") == 2
    for kind in ("praise", "help"):
        filed = said("utter_filed", "voice", kind)
        assert filed.count("308567") == 1 and "再说一遍" in filed


@pytest.mark.parametrize("response", ["utter_goodbye", "utter_filing_stopped_goodbye"])
def test_only_a_caller_is_thanked_for_calling(response: str) -> None:
    assert "来电" in said(response, "voice", None)
    assert "来电" not in said(response, "rest", None)
