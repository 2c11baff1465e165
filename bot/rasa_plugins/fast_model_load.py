"""Loading the trained model in seconds instead of a minute or more.

To give a DIET model (the intent/entity classifier and the FAQ's response selector) weights of the
right shapes before reading them from disk, Rasa's `RasaModel.load` compiles the model and trains it
for one step on one example, in graph mode: TensorFlow traces and optimises the whole training
function (loss, gradients, optimizer) only to throw the step away. On this project's 2-core machines
that tracing was 85-90% of the time a Rasa server took to come up (80 s wall for one server, profiled
with cProfile: `keras...fit` → `func_graph_from_py_func`), and every restart of a crashed server,
every Sanic worker and every `rasa test` paid it.

Here that one step runs eagerly (about a second: no graph to build), then the trained weights and
optimizer state are read over it exactly as before, and the model is set back to how its config says
it runs, so prediction still uses the traced `tf.function` Rasa builds for it. The loaded model is
the same: tests/bot/rasa_plugins/test_fast_model_load.py loads a trained DIET model both ways and
compares every variable and the predictions; parsing this project's texts with the whole model
loaded both ways gave the same intents, confidences and entities (checked by hand). Fine-tuning
(`rasa train --finetune`) keeps Rasa's own path.

Installed when `bot/rasa_plugins/no_signal.py` is imported: the model's pipeline names that
component, so every process that loads the model imports it before the classifiers are loaded.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger(__name__)
_installed = False


def _load(cls: Any, model_file_name: str, model_data_example: Any, predict_data_example: Optional[Any] = None,
          finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    if finetune_mode:
        return _rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                          *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # One eager step on one example creates every weight and optimizer slot with its shape...
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.run_eagerly = config.get(RUN_EAGERLY)  # ...and prediction runs as configured (traced)
    model.load_weights(model_file_name)
    if predict_data_example:
        model.run_inference(predict_data_example)  # traces the prediction function now, as Rasa does
    return model


_rasa_load: Any = None


def keep_rasa_load() -> None:
    """Leave Rasa's own `RasaModel.load` in this process: the benchmark's comparison."""
    global _installed
    _installed = True


def install() -> None:
    """Replace `RasaModel.load` once per process."""
    global _installed, _rasa_load
    if _installed:
        return
    from rasa.utils.tensorflow.models import RasaModel

    _rasa_load = RasaModel.load.__func__
    RasaModel.load = classmethod(_load)
    _installed = True
    log.debug("DIET models load with one eager step instead of a traced training step")
