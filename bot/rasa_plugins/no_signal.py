"""A guard for turns that carry nothing the NLU has ever seen, such as keyboard mashing ("asdfgh").

DIET gives every input some intent, and for a string of random Latin letters often a confident
one: Latin letters are rare in the (Chinese) training data, so the handful of examples that have
them ("hi", "ok", "AI") decide what any letter salad means, and which one wins changes from one
training set to the next. A turn with no Chinese character, no digit and no word from the
training data has no meaning for the model, so this component sets its intent confidence to 0 and
the FallbackClassifier after it turns it into nlu_fallback (the bot asks the caller again).
Every other turn passes through untouched, so the component changes nothing for real utterances.

Put it after the DIETClassifier and before the FallbackClassifier.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_plugins import fast_model_load

# The model's pipeline names this component, so every process that loads the model (rasa run, rasa
# test, the benchmarks) imports this module before the classifiers: the place to make loading fast.
fast_model_load.install()

# Chinese characters (CJK unified ideographs and extension A) and digits (ticket ids, phones).
MEANINGFUL = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff0-9０-９]")
WORD = re.compile(r"[A-Za-z]+")
VOCABULARY_FILE = "latin_words.json"


def latin_words(text: Text) -> List[Text]:
    return [word.lower() for word in WORD.findall(text or "")]


def carries_no_signal(text: Text, vocabulary: Set[Text]) -> bool:
    """True for a turn without Chinese, digits or any Latin word seen in training."""
    if not text or not text.strip() or MEANINGFUL.search(text):
        return False
    return not any(word in vocabulary for word in latin_words(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NoSignalGuard(GraphComponent):
    """Zeroes the intent confidence of turns that carry no signal (see the module docstring)."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Iterable[Text]] = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: Set[Text] = set(vocabulary or ())

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NoSignalGuard":
        return cls(model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NoSignalGuard":
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            words = []
        return cls(model_storage, resource, words)

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = {word for example in training_data.training_examples
                           for word in latin_words(example.get(TEXT))}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT)
            if not intent or not carries_no_signal(message.get(TEXT), self.vocabulary):
                continue
            message.set(INTENT, {**intent, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT_RANKING_KEY,
                        [{**entry, PREDICTED_CONFIDENCE_KEY: 0.0} for entry in ranking],
                        add_to_output=True)
        return messages
