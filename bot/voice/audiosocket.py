"""The Asterisk AudioSocket wire protocol (asterisk/documentation, Channel-Drivers/AudioSocket).

Every message is a 3-byte header, one byte of type and a 16-bit big-endian payload length, then
the payload. Asterisk sends the call's UUID first, then 20 ms frames of 8 kHz signed-linear 16-bit
little-endian mono audio, DTMF digits as single ASCII bytes, and a hangup (or closes the socket);
the application answers with audio frames of the same format and may hang up itself.
"""
from __future__ import annotations

import asyncio
import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

HEADER = struct.Struct(">BH")
SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


# Error codes Asterisk puts in an ERROR payload.
ERROR_CODES = {0x01: "hangup of the calling party", 0x02: "frame forwarding error", 0x04: "memory error"}


class ProtocolError(ValueError):
    """The peer sent something that is not AudioSocket."""


class UnknownKind(ProtocolError):
    """A well-framed message of a type this side does not know (newer Asterisk versions add audio
    formats): its payload has been read, so the stream is still in step and may go on."""

    def __init__(self, kind: int, payload: bytes) -> None:
        super().__init__(f"unknown AudioSocket message type 0x{kind:02x}")
        self.kind, self.payload = kind, payload


@dataclass(frozen=True)
class Message:
    kind: Kind
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode(self.kind, self.payload)

    @property
    def call_uuid(self) -> str:
        if self.kind != Kind.UUID or len(self.payload) != 16:
            raise ProtocolError(f"not a 16-byte UUID message: {self.kind!r} with {len(self.payload)} bytes")
        return str(uuid.UUID(bytes=self.payload))

    @property
    def digit(self) -> str:
        return self.payload.decode("ascii", errors="replace")[:1]

    @property
    def error_text(self) -> str:
        code = self.payload[0] if self.payload else None
        return ERROR_CODES.get(code, f"application error {self.payload.hex() or '(no code)'}")


def encode(kind: Kind | int, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ProtocolError(f"payload of {len(payload)} bytes does not fit a 16-bit length")
    return HEADER.pack(int(kind), len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    """The next message, or None when the peer closed the socket; UnknownKind (after reading the
    whole message) for a type that is not in `Kind`."""
    try:
        kind, length = HEADER.unpack(await reader.readexactly(HEADER.size))
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError:
        return None
    try:
        return Message(Kind(kind), payload)
    except ValueError:
        raise UnknownKind(kind, payload) from None
