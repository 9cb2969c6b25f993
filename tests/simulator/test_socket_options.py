"""Socket options of the embedded FreeSWITCH's event-socket connections."""

from __future__ import annotations

import socket

from simulator.helpers import start_call


def _nodelay(sock) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_outbound_socket_disables_nagle(sim, daemon):
    """The socket a call opens to the daemon has TCP_NODELAY, as mod_event_socket sets it."""
    a_uuid, _, _, reply = start_call(sim, daemon)
    b_leg = sim.channel(a_uuid).variables["other_loopback_leg_uuid"]
    assert reply.reply_text == "+OK"
    assert _nodelay(sim.channel(b_leg).listener.sock)

