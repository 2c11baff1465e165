"""The model loads fast and is the model Rasa's own loader gives: the same variables, the same
predictions, and prediction still traced, as Rasa runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.servers import REPO_ROOT
from tests.support.stack import MODEL_PATH


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="needs the model trained by make setup")
def test_the_fast_load_gives_the_model_rasas_own_load_gives():
    out = subprocess.run([sys.executable, "-m", "tests.bot.rasa_plugins.loaded_weights", str(MODEL_PATH)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=400,
                         env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["load_module"] == "bot.rasa_plugins.fast_model_load"  # what every model load now uses
    intents, faq = found["models"]["DIET"], found["models"]["DIET2BOW"]
    assert faq["variables"] > 10 and faq["same_variables"] and faq["same_predictions"], faq
    assert not intents["runs_eagerly"] and not faq["runs_eagerly"]
