"""ADB transport packets: the 24-byte header and its payload.

The header is six little-endian u32s (command, arg0, arg1, data_length,
data_check, magic). We answer at protocol version 0x01000001, where checksums
are optional, so outgoing packets carry 0 and incoming checksums are not
enforced; the magic is, because a wrong magic means the byte stream is out of
step and nothing after it can be trusted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

A_CNXN = 0x4E584E43
A_AUTH = 0x48545541
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_WRTE = 0x45545257
A_CLSE = 0x45534C43
A_STLS = 0x534C5453

NAMES = {
    A_CNXN: "CNXN",
    A_AUTH: "AUTH",
    A_OPEN: "OPEN",
    A_OKAY: "OKAY",
    A_WRTE: "WRTE",
    A_CLSE: "CLSE",
    A_STLS: "STLS",
}

VERSION = 0x01000001
# What we accept in one packet: the largest maxdata any adb speaks (1 MiB).
MAX_PAYLOAD = 1024 * 1024
# CNXN/AUTH banners are limited to this by adbd as well.
MAX_BANNER = 4096

HEADER = struct.Struct("<6I")


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid ADB packet; the connection must close."""


@dataclass(frozen=True, slots=True)
class Packet:
    command: int
    arg0: int
    arg1: int
    payload: bytes = b""

    @property
    def name(self) -> str:
        return NAMES.get(self.command, f"0x{self.command:08x}")

    def encode(self) -> bytes:
        header = HEADER.pack(
            self.command,
            self.arg0,
            self.arg1,
            len(self.payload),
            0,
            self.command ^ 0xFFFFFFFF,
        )
        return header + self.payload

    def __repr__(self) -> str:  # short, for logs
        body = self.payload[:40]
        more = "…" if len(self.payload) > 40 else ""
        return f"{self.name}({self.arg0}, {self.arg1}, {len(self.payload)}B {body!r}{more})"


def checksum(data: bytes) -> int:
    """The byte sum that protocol version 0x01000000 requires."""
    return sum(data) & 0xFFFFFFFF


def parse_header(raw: bytes, max_payload: int = MAX_PAYLOAD) -> tuple[int, int, int, int]:
    """Validate a header; returns ``(command, arg0, arg1, data_length)``."""
    if len(raw) != HEADER.size:
        raise ProtocolError(f"truncated header ({len(raw)} of {HEADER.size} bytes)")
    command, arg0, arg1, length, _check, magic = HEADER.unpack(raw)
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic 0x{magic:08x} for command 0x{command:08x}")
    limit = MAX_BANNER if command in (A_CNXN, A_AUTH) else max_payload
    if length > limit:
        name = NAMES.get(command, f"0x{command:08x}")
        raise ProtocolError(f"oversize payload: {name} with {length} bytes (limit {limit})")
    return command, arg0, arg1, length


def read_packet(recv_exactly, max_payload: int = MAX_PAYLOAD) -> Packet | None:
    """Read one packet with ``recv_exactly(n) -> bytes``; None on a clean EOF before a header."""
    raw = recv_exactly(HEADER.size)
    if not raw:
        return None
    command, arg0, arg1, length = parse_header(raw, max_payload)
    payload = recv_exactly(length) if length else b""
    if len(payload) != length:
        raise ProtocolError(f"truncated payload ({len(payload)} of {length} bytes)")
    return Packet(command, arg0, arg1, payload)
