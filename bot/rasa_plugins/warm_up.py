"""Each Rasa worker thinks through one throwaway turn before its first caller.

TensorFlow builds the graphs of the NLU model the first time it runs in a process, and Rasa's
policies fill caches of their own on their first prediction: a worker that has just started made its first
caller wait 0.5-1.2 s instead of ~60 ms (voice bench, the first round after a start; with two
workers, twice). After a restart or a deploy that is the first callers of the day. So each worker,
once its agent is loaded, understands a sentence and predicts the next action for a conversation
that lives only in memory: nothing is stored in the tracker store, no action runs, the issue API is
not called.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

WARM_UP_SENDER = "hotline-warm-up"
WARM_UP_TEXT = "你好，我想查询一下工单进度"


async def warm_up(agent: Any) -> str | None:
    """Run the NLU and the policies once on a throwaway message; returns the action they predict
    (None when the agent has no model). Failures are logged, never raised: a cold worker still works."""
    processor = getattr(agent, "processor", None)
    if processor is None:
        return None
    started = time.perf_counter()
    try:
        parsed = await processor.parse_message(UserMessage(WARM_UP_TEXT, sender_id=WARM_UP_SENDER))
        tracker = DialogueStateTracker.from_events(WARM_UP_SENDER, [
            ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered(WARM_UP_TEXT, parsed.get("intent"), parsed.get("entities"), parsed),
        ], slots=agent.domain.slots)
        prediction = processor.predict_next_with_tracker(tracker)
    except Exception:  # noqa: BLE001 - warming up is an optimisation, never a reason not to serve
        log.exception("warming up the Rasa worker failed; its first turn will be slow")
        return None
    scores = (prediction or {}).get("scores") or []
    action = max(scores, key=lambda score: score["score"])["action"] if scores else None
    log.info("Rasa worker %d warmed up in %.2f s (predicts %s)", os.getpid(), time.perf_counter() - started,
             action)
    return action
