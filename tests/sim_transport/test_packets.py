"""The packet codec on its own: what goes out, what is refused coming in."""

import struct

import pytest

from emulator.sim.adb.packets import (
    A_CNXN,
    A_OPEN,
    A_WRTE,
    HEADER,
    MAX_PAYLOAD,
    Packet,
    ProtocolError,
    parse_header,
    read_packet,
)


def reader(data: bytes):
    buf = bytearray(data)

    def recv_exactly(n: int) -> bytes:
        out = bytes(buf[:n])
        del buf[:n]
        return out

    return recv_exactly


def test_encode_has_magic_and_length():
    raw = Packet(A_OPEN, 7, 0, b"shell:ls\0").encode()
    command, arg0, arg1, length, check, magic = HEADER.unpack(raw[:24])
    assert (command, arg0, arg1, length) == (A_OPEN, 7, 0, 9)
    assert magic == A_OPEN ^ 0xFFFFFFFF
    assert check == 0
    assert raw[24:] == b"shell:ls\0"


def test_round_trip():
    p = Packet(A_WRTE, 1, 2, bytes(range(256)) * 10)
    assert read_packet(reader(p.encode())) == p


def test_clean_eof_is_none():
    assert read_packet(reader(b"")) is None


def test_bad_magic_is_refused():
    raw = bytearray(Packet(A_WRTE, 1, 2, b"x").encode())
    raw[20:24] = struct.pack("<I", 0x12345678)
    with pytest.raises(ProtocolError, match="bad magic"):
        read_packet(reader(bytes(raw)))


def test_oversize_payload_is_refused():
    header = HEADER.pack(A_WRTE, 1, 2, MAX_PAYLOAD + 1, 0, A_WRTE ^ 0xFFFFFFFF)
    with pytest.raises(ProtocolError, match="oversize"):
        parse_header(header)


def test_oversize_banner_is_refused():
    header = HEADER.pack(A_CNXN, 0x01000001, 4096, 5000, 0, A_CNXN ^ 0xFFFFFFFF)
    with pytest.raises(ProtocolError, match="oversize"):
        parse_header(header)


def test_truncated_payload_is_refused():
    raw = Packet(A_WRTE, 1, 2, b"hello").encode()[:-2]
    with pytest.raises(ProtocolError, match="truncated payload"):
        read_packet(reader(raw))


def test_truncated_header_is_refused():
    with pytest.raises(ProtocolError, match="truncated header"):
        read_packet(reader(b"CNXN\0\0"))
