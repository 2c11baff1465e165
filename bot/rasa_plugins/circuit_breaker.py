"""A conversation whose turn tripped Rasa's circuit breaker answers again on the next turn.

Rasa stops a turn after `max_number_of_predictions` actions (its circuit breaker): that happens when
the action server is unreachable, since every custom action then fails without events and the
fallback, itself a custom action, is predicted again and again. Rasa counts the actions back to the
last `action_listen` and the stopped turn never logs one, so every later turn of that conversation
trips the breaker at once and the conversation answers nothing until its session expires: one
message during a short action-server outage made a chat dead for an hour. Here a tripped turn ends
with the `action_listen` it never reached, as a turn that ended normally would, and the next message
is handled afresh.

Installed with the other Rasa-server plugins when the hotline's REST channel loads (channel.py).
"""
from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)
_installed = False


def _rearmed(original: Any) -> Any:
    """Rasa's prediction step, which raises ActionLimitReached when the breaker trips: only then, on
    the way out, the turn gets its `action_listen` (no extra work on a turn that ends normally)."""
    from rasa.exceptions import ActionLimitReached
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    @functools.wraps(original)
    def predict_next_with_tracker_if_should(self: Any, tracker: Any) -> Any:
        try:
            return original(self, tracker)
        except ActionLimitReached:
            log.warning("turn of %s stopped by the circuit breaker: the next message starts a new turn",
                        tracker.sender_id)
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            raise

    return predict_next_with_tracker_if_should


def install() -> None:
    """Idempotent."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor

    MessageProcessor.predict_next_with_tracker_if_should = _rearmed(
        MessageProcessor.predict_next_with_tracker_if_should)
    _installed = True
