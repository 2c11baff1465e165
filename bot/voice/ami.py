"""Transfer a call through the Asterisk Manager Interface (AMI): the `Redirect` action.

AudioSocket tells the bot only the call's UUID, while AMI needs the channel name. The dialplan
therefore records the channel under the UUID in AstDB before starting AudioSocket:

    exten => 96767,1,Answer()
     same => n,Set(CALL_UUID=${SHELL(uuidgen | tr -d '\\n')})
     same => n,Set(DB(audiosocket/${CALL_UUID})=${CHANNEL})
     same => n,AudioSocket(${CALL_UUID},127.0.0.1:9092)
     same => n,Hangup()

and on a handoff the bot reads it back (`DBGet`) and redirects the channel to the operator queue's
context/extension (AMI_CONTEXT, AMI_EXTEN). AMI is a line protocol: "Key: Value" lines, a blank
line ends a message.
"""
from __future__ import annotations

import itertools
import logging
import socket
from typing import Any

from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)
_action_ids = itertools.count(1)


class AmiError(RuntimeError):
    """AMI refused or the connection failed."""


class AmiConnection:
    """A minimal synchronous AMI client: send an action, read until its response."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._file = self._sock.makefile("rb")
        self.banner = self._file.readline().decode("utf-8", "replace").strip()  # "Asterisk Call Manager/x"

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def _read_message(self) -> dict[str, str]:
        message: dict[str, str] = {}
        while True:
            line = self._file.readline()
            if not line:
                raise AmiError("AMI closed the connection")
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                if message:
                    return message
                continue
            key, _, value = line.partition(":")
            message[key.strip()] = value.strip()

    def action(self, name: str, until: frozenset[str] = frozenset(),
               **fields: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
        """Send an action; return its response and, if `until` names events, those events up to one of them."""
        action_id = f"hotline-{next(_action_ids)}"
        # A line break inside a value would start a new header: strip them.
        clean = {k: str(v).replace("\r", "").replace("\n", "") for k, v in fields.items()}
        lines = [f"Action: {name}", f"ActionID: {action_id}"] + [f"{k}: {v}" for k, v in clean.items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        response: dict[str, str] = {}
        events: list[dict[str, str]] = []
        while True:
            message = self._read_message()
            if message.get("ActionID") != action_id:
                continue  # unrelated events
            if "Response" in message:
                response = message
                if not until or message["Response"].lower() != "success":
                    return response, events
            elif "Event" in message:
                events.append(message)
                if message["Event"] in until:
                    return response, events


class AmiTransfer:
    """Redirect an AudioSocket call's channel to the operator queue via AMI."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings

    def request_transfer(self, call_id: str, handoff: dict[str, Any]) -> bool:
        s = self.settings
        try:
            ami = AmiConnection(s.ami_host or "127.0.0.1", s.ami_port)
        except OSError as exc:
            log.error("transfer of call %s failed: AMI at %s:%s unreachable: %s", call_id, s.ami_host, s.ami_port, exc)
            return False
        try:
            response, _ = ami.action("Login", Username=s.ami_user, Secret=s.ami_secret)
            if response.get("Response", "").lower() != "success":
                raise AmiError(f"login refused: {response.get('Message', '')}")
            response, events = ami.action("DBGet", until=frozenset({"DBGetResponse", "DBGetComplete"}), Family=s.ami_db_family, Key=call_id)
            channel = next((e.get("Val") for e in events if e.get("Event") == "DBGetResponse"), None)
            if response.get("Response", "").lower() != "success" or not channel:
                raise AmiError(f"no channel recorded in AstDB {s.ami_db_family}/{call_id}")
            response, _ = ami.action("Redirect", Channel=channel, Context=s.ami_context, Exten=s.ami_exten,
                                     Priority=s.ami_priority)
            if response.get("Response", "").lower() != "success":
                raise AmiError(f"redirect refused: {response.get('Message', '')}")
            log.info("call %s (%s) redirected to %s,%s,%s (reason %s)", call_id, channel, s.ami_context,
                     s.ami_exten, s.ami_priority, handoff.get("reason"))
            ami.action("Logoff")
            return True
        except (AmiError, OSError) as exc:
            log.error("transfer of call %s failed: %s", call_id, exc)
            return False
        finally:
            ami.close()


def build_transfer(settings: VoiceSettings):  # noqa: ANN201 - TransferRequester
    """AMI when AMI_HOST is set, otherwise log-only."""
    from bot.voice.transfer import LogOnlyTransfer

    return AmiTransfer(settings) if settings.ami_host else LogOnlyTransfer()
