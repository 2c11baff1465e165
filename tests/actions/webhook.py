"""Call one custom action on a live action server the way the Rasa server does (POST /webhook), and
read what it said the way the Rasa server renders it (responses from domain.yml, filled from the
tracker's slots and the values the action passed)."""
from __future__ import annotations

import time
from typing import Any, Iterable, Optional

import requests

from contract.replies import reply
from tests.support.stack import ACTION_SERVER_TOKEN


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
               latest: Optional[dict[str, Any]] = None, timeout: float = 30,
               active_loop: Optional[str] = None) -> dict[str, Any]:
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
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
    }
    body = {"next_action": name, "sender_id": sender, "tracker": tracker, "domain": {},
            "version": "3.6.21"}
    response = requests.post(f"{action_url}/webhook", json=body, params={"token": ACTION_SERVER_TOKEN},
                             timeout=timeout)
    response.raise_for_status()
    result = response.json()
    result["_slots"] = dict(slots or {})
    return result


# Keys of a response item that are not values for the response's placeholders.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


def rendered(result: dict[str, Any], channel: Optional[str] = None) -> list[str]:
    """Each message's text, as the Rasa server would send it to `channel`."""
    said = []
    for item in result.get("responses", []):
        name = item.get("response") or item.get("template")
        if name:
            values = {**result.get("_slots", {}), **{k: v for k, v in item.items() if k not in _MESSAGE_KEYS}}
            said.append(reply(name, for_channel=channel, **values))
        elif item.get("text"):
            said.append(item["text"])
    return said


def texts(result: dict[str, Any], channel: Optional[str] = None) -> str:
    return "\n".join(rendered(result, channel))


def responses(result: dict[str, Any]) -> list[str]:
    """The names of the domain responses the action said, in order."""
    return [item.get("response") or item.get("template") or "" for item in result.get("responses", [])]


def payloads(result: dict[str, Any], key: str) -> list[Any]:
    """The contract payloads (`custom.<key>`) the action sent."""
    return [item["custom"][key] for item in result.get("responses", [])
            if isinstance(item.get("custom"), dict) and key in item["custom"]]


def slot_events(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result.get("events", []) if e.get("event") == "slot"}
