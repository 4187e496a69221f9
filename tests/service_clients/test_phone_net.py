"""The virtual phone's network: 10.0.2.2 is the host's loopback, every other address unreachable."""

from __future__ import annotations

import errno
import socket

import pytest

from emulator.sim import net


def test_the_host_alias_reaches_the_hosts_loopback():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with net.connect("10.0.2.2", port) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"hi")
                assert peer.recv(2) == b"hi"


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.2.3", "10.0.0.1", "localhost", "example.org"])
def test_no_other_address_is_routed(host):
    with pytest.raises(OSError) as caught:
        net.connect(host, 80)
    assert caught.value.errno == errno.ENETUNREACH
