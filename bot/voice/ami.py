"""Transfer a call through the Asterisk Manager Interface (AMI): the `Redirect` action.

AudioSocket tells the bot only the call's UUID, while AMI needs the channel name. The dialplan
therefore records the channel under the UUID in AstDB before starting AudioSocket:

    exten => 96767,1,Answer()
     same => n,Set(CALL_UUID=${SHELL(uuidgen | tr -d '\\n')})
     same => n,Set(DB(audiosocket/${CALL_UUID})=${CHANNEL})
     same => n,Set(DB(audiosocket-cid/${CALL_UUID})=${CALLERID(num)})
     same => n,AudioSocket(${CALL_UUID},127.0.0.1:9092)
     same => n,Hangup()
    exten => h,1,NoOp(${DB_DELETE(audiosocket/${CALL_UUID})})
     same => n,NoOp(${DB_DELETE(audiosocket-cid/${CALL_UUID})})

(and the caller's number, which AudioSocket does not carry), and the bot reads them back (`DBGet`):
the number when the call starts, the channel on a handoff, and redirects the channel to the operator queue's
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

    def set_timeout(self, seconds: float) -> None:
        """How long a read may wait from now on (an Originate waits for the phone to ring out)."""
        self._sock.settimeout(seconds)

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
            if "Event" in message:  # before "Response": some events (OriginateResponse) carry one too
                events.append(message)
                if message["Event"] in until:
                    return response, events
            elif "Response" in message:
                response = message
                if not until or message["Response"].lower() != "success":
                    return response, events


def db_get(ami: AmiConnection, family: str, key: str) -> str | None:
    """A value from Asterisk's AstDB, or None."""
    response, events = ami.action("DBGet", until=frozenset({"DBGetResponse", "DBGetComplete"}), Family=family, Key=key)
    if response.get("Response", "").lower() != "success":
        return None
    return next((e.get("Val") for e in events if e.get("Event") == "DBGetResponse"), None)


def _login(ami: AmiConnection, settings: VoiceSettings) -> None:
    response, _ = ami.action("Login", Username=settings.ami_user, Secret=settings.ami_secret)
    if response.get("Response", "").lower() != "success":
        raise AmiError(f"login refused: {response.get('Message', '')}")


def lookup_caller_id(settings: VoiceSettings, call_id: str) -> str | None:
    """The caller's number the dialplan stored under the call UUID (AstDB `<AMI_DB_FAMILY>-cid`).

    AudioSocket carries no caller id; the bot needs it to file and find the caller's tickets.
    """
    if not settings.ami_host:
        return None
    try:
        ami = AmiConnection(settings.ami_host, settings.ami_port)
    except OSError as exc:
        log.warning("caller id of call %s unknown: AMI unreachable: %s", call_id, exc)
        return None
    try:
        _login(ami, settings)
        number = db_get(ami, f"{settings.ami_db_family}-cid", call_id)
        # Read once: a connection replaying this call's UUID later must not get the caller's number
        # (it is proof of who the caller is). Best effort: a refusal changes nothing for this call.
        ami.action("DBDel", Family=f"{settings.ami_db_family}-cid", Key=call_id)
        ami.action("Logoff")
        return number if number and number.isdigit() else None
    except (AmiError, OSError) as exc:
        log.warning("caller id of call %s unknown: %s", call_id, exc)
        return None
    finally:
        ami.close()


# OriginateResponse "Reason": the channel's last control frame (Asterisk's AST_CONTROL_*).
ORIGINATE_OUTCOMES = {"4": "answered", "1": "no_answer", "3": "no_answer", "5": "busy", "8": "failed", "0": "failed"}


def originate_outcome(event: dict[str, str]) -> str:
    """answered, no_answer (rang out, or rejected while ringing), busy or failed (congestion, no
    route, anything else) from an OriginateResponse event."""
    if event.get("Response", "").lower() == "success":
        return "answered"
    outcome = ORIGINATE_OUTCOMES.get(event.get("Reason", "").strip(), "failed")
    return "failed" if outcome == "answered" else outcome


def originate(settings: VoiceSettings, channel: str, application: str, data: str, caller_id: str,
              ring_timeout: float, variables: dict[str, str] | None = None) -> str:
    """Place a call with AMI `Originate` (Async) and wait for its OriginateResponse; the outcome
    (`originate_outcome`). Blocks for up to the ring timeout: run it in a thread of its own.

    The manager user needs the `originate` write class and the `call` read class (the
    OriginateResponse event is a call event, sent to the connection that asked).
    """
    try:
        ami = AmiConnection(settings.ami_host or "127.0.0.1", settings.ami_port)
    except OSError as exc:
        log.error("originate failed: AMI at %s:%s unreachable: %s", settings.ami_host, settings.ami_port, exc)
        return "failed"
    try:
        _login(ami, settings)
        # Asterisk gives up ringing after Timeout ms, then answers the action: wait a little longer.
        ami.set_timeout(ring_timeout + 30)
        fields: dict[str, Any] = {"Channel": channel, "Application": application, "Data": data,
                                  "CallerID": caller_id, "Timeout": int(ring_timeout * 1000), "Async": "true"}
        if variables:
            fields["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
        response, events = ami.action("Originate", until=frozenset({"OriginateResponse"}), **fields)
        event = next((e for e in events if e.get("Event") == "OriginateResponse"), None)
        if event is None:
            raise AmiError(f"originate refused: {response.get('Message', '')}")
        outcome = originate_outcome(event)
        log.info("originate %s: %s (reason %s)", event.get("Channel") or "-", outcome, event.get("Reason"))
        try:
            ami.set_timeout(5)
            ami.action("Logoff")
        except (AmiError, OSError):
            pass
        return outcome
    except (AmiError, OSError) as exc:
        log.error("originate failed: %s", exc)
        return "failed"
    finally:
        ami.close()


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
            _login(ami, s)
            channel = db_get(ami, s.ami_db_family, call_id)
            if not channel:
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
