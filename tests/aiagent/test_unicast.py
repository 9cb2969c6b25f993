"""`unicast` on the embedded FreeSWITCH, held to what 1.10.12 did (tests/aiagent/unicast_cases.py,
the same exchange as tests/fs/test_unicast_real.py): media in real time (time_scale 1)."""

from __future__ import annotations

import socket

import pytest

from aiagent.unicast_cases import check, exchange
from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands
from plivoxml_fs.simulator import EmbeddedFreeSwitch


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unicast_exchange_as_on_freeswitch(tmp_path):
    port = _free_port()
    fs = EmbeddedFreeSwitch(socket_address=("127.0.0.1", port), time_scale=1.0,
                            media_dir=str(tmp_path))
    fs.start()
    try:
        check(exchange(("127.0.0.1", fs.inbound_address[1], fs.password), port, tmp_path))
    finally:
        fs.stop()


def test_unicast_command_is_pinned():
    message = commands.unicast("aleg-1", local=("127.0.0.1", 9201), remote=("10.0.0.2", 9200))
    assert message.encode() == (
        b"sendmsg aleg-1\ncall-command: unicast\nlocal-ip: 127.0.0.1\nlocal-port: 9201\n"
        b"remote-ip: 10.0.0.2\nremote-port: 9200\ntransport: udp\n\n")


@pytest.mark.parametrize("local", [("127.0.0.1", 0), ("localhost", 9201), ("1.2.3.4\n", 5),
                                   ("127.0.0.1", True), ("300.1.1.1", 5)])
def test_unicast_refuses_what_is_no_address(local):
    with pytest.raises(UnsafeValue):
        commands.unicast("aleg-1", local=local, remote=("127.0.0.1", 9200))


def test_wait_parked_waits_for_the_legs_own_park():
    """effects/aiagent.wait_parked: True once current_application is park; False for a gone
    leg at once and for one that never parks at the deadline."""
    from plivoxml_fs.effects.aiagent import wait_parked

    answers = iter(["_undef_", "socket", "park"])
    asked = []

    def api(cmd: str) -> str:
        asked.append(cmd)
        return next(answers)

    assert wait_parked(api, "aleg-1", 5) is True
    assert asked == ["uuid_getvar aleg-1 current_application"] * 3
    assert wait_parked(lambda cmd: "-ERR No such channel!\n", "aleg-1", 5) is False
    assert wait_parked(lambda cmd: "socket", "aleg-1", 0.05) is False
