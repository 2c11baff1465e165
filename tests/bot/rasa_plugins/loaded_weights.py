"""Run as a script: load the trained model as a Rasa server does, and print as JSON how its smaller
DIET model (the FAQ's response selector) compares with the same model loaded by Rasa's own, slow
path: every variable and the predictions on Rasa's own example data. (The big classifier loads by
the same code; loading it Rasa's way too would cost the test a minute and a half.)"""
from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is b
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def compare(model_path: str) -> dict[str, Any]:
    from rasa.core.agent import Agent

    import bot.rasa_plugins.no_signal  # noqa: F401  (what the model's pipeline imports first)
    from bot.rasa_plugins import fast_model_load
    from rasa.utils.tensorflow.models import RasaModel

    installed = RasaModel.load.__func__
    found: dict[str, Any] = {"load_module": installed.__module__, "models": {}}

    def watched(cls: Any, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
                finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
        model = installed(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                          *args, **kwargs)
        seen: dict[str, Any] = {"runs_eagerly": bool(model.run_eagerly)}
        if cls.__name__ == "DIET2BOW" and predict_data_example:
            reference = fast_model_load._rasa_load(cls, model_file_name, model_data_example,
                                                   predict_data_example, finetune_mode, *args, **kwargs)
            seen["variables"] = len(model.variables)
            seen["same_variables"] = len(model.variables) == len(reference.variables) and all(
                v.name == r.name and np.array_equal(v.numpy(), r.numpy())
                for v, r in zip(model.variables, reference.variables))
            seen["same_predictions"] = _same(model.run_inference(predict_data_example),
                                             reference.run_inference(predict_data_example))
        found["models"][cls.__name__] = seen
        return model

    RasaModel.load = classmethod(watched)
    started = time.monotonic()
    Agent.load(model_path)
    found["load_s"] = time.monotonic() - started
    return found


if __name__ == "__main__":
    print(json.dumps(compare(sys.argv[1])))
