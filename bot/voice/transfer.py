"""Asking the phone system to move a call to a human operator.

The conversation side of a handoff (operator queue, transcript) is the gateway's job; this is the
telephony side. With no PBX configured the request is only logged and the caller stays on the bot's
line, where an operator's typed replies are spoken to them.
"""
from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class TransferRequester(Protocol):
    def request_transfer(self, call_id: str, handoff: dict[str, Any]) -> bool:
        """Ask the PBX to transfer `call_id`; True when the PBX accepted."""
        ...


class LogOnlyTransfer:
    """No PBX to ask: record the request so it is visible, keep the call where it is."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def request_transfer(self, call_id: str, handoff: dict[str, Any]) -> bool:
        self.requests.append((call_id, handoff))
        log.info("transfer requested for call %s (reason %s); no PBX configured, operator replies will be spoken",
                 call_id, handoff.get("reason"))
        return False
