"""The no-signal guard: keyboard mashing falls back, real turns are left alone."""
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_plugins.no_signal import NoSignalGuard, carries_no_signal

VOCABULARY = {"hello", "ok", "ai"}


def test_only_unseen_latin_letters_carry_no_signal():
    assert carries_no_signal("asdfgh", VOCABULARY)
    assert carries_no_signal("zxcvb qwer!", VOCABULARY)
    assert not carries_no_signal("hello", VOCABULARY)
    assert not carries_no_signal("OK", VOCABULARY)
    assert not carries_no_signal("你好 asdf", VOCABULARY)
    assert not carries_no_signal("2611270003", VOCABULARY)
    assert not carries_no_signal("", VOCABULARY)


def _guard(tmp_path) -> NoSignalGuard:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    guard = NoSignalGuard.create({}, storage, resource, None)
    examples = [Message(data={"text": text, "intent": intent})
                for text, intent in [("hello", "greet"), ("ok", "affirm"), ("你是AI吗", "bot_challenge")]]
    JiebaTokenizer(JiebaTokenizer.get_default_config(), None, None).process(examples)
    guard.train(TrainingData(examples))
    return NoSignalGuard.load({}, storage, resource, None)


def test_guard_learns_the_latin_words_and_zeroes_only_mashing(tmp_path):
    guard = _guard(tmp_path)
    assert guard.vocabulary == {"hello", "ok", "ai"}
    mashed = Message(data={"text": "asdfgh", "intent": {"name": "greet", "confidence": 0.9},
                           "intent_ranking": [{"name": "greet", "confidence": 0.9}]})
    real = Message(data={"text": "hello", "intent": {"name": "greet", "confidence": 0.9}})
    guard.process([mashed, real])
    assert mashed.get("intent") == {"name": "greet", "confidence": 0.0}
    assert mashed.get("intent_ranking") == [{"name": "greet", "confidence": 0.0}]
    assert real.get("intent")["confidence"] == 0.9
