"""Call one custom action on a live action server the way the Rasa server does (POST /webhook)."""
from __future__ import annotations

import time
from typing import Any, Iterable, Optional

import requests


def user_event(text: str, intent: str, confidence: float = 0.99, entities: Iterable[dict] = (),
               metadata: Optional[dict] = None) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "entities": list(entities), "metadata": metadata or {}}
    return {"event": "user", "text": text, "timestamp": time.time(), "parse_data": parse,
            "metadata": metadata or {}}


def run_action(action_url: str, name: str, *, text: str = "", intent: str = "inform",
               slots: Optional[dict[str, Any]] = None, entities: Iterable[dict] = (),
               metadata: Optional[dict] = None, history: Iterable[dict] = (),
               sender: str = "test-sender", confidence: float = 0.99,
               latest: Optional[dict[str, Any]] = None, timeout: float = 30) -> dict[str, Any]:
    """Returns {"events": [...], "responses": [...]} from the action server.

    `latest`: a ready user event, to replay exactly the same turn twice."""
    latest = latest or user_event(text, intent, confidence, entities, metadata)
    tracker = {
        "sender_id": sender,
        "slots": slots or {},
        "latest_message": latest["parse_data"],
        "events": [*history, latest],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    body = {"next_action": name, "sender_id": sender, "tracker": tracker, "domain": {},
            "version": "3.6.21"}
    response = requests.post(f"{action_url}/webhook", json=body, timeout=timeout)
    response.raise_for_status()
    return response.json()


def texts(result: dict[str, Any]) -> str:
    return "\n".join(r.get("text") or "" for r in result.get("responses", []))


def slot_events(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result.get("events", []) if e.get("event") == "slot"}
