"""Socket options of the embedded FreeSWITCH's event-socket connections."""

from __future__ import annotations

import socket

import gevent

from simulator.helpers import authed_inbound, start_call


def _nodelay(sock) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_outbound_socket_disables_nagle(sim, daemon):
    """The socket a call opens to the daemon has TCP_NODELAY, as mod_event_socket sets it."""
    a_uuid, _, _, reply = start_call(sim, daemon)
    b_leg = sim.channel(a_uuid).variables["other_loopback_leg_uuid"]
    assert reply.reply_text == "+OK"
    assert _nodelay(sim.channel(b_leg).listener.sock)


def test_inbound_socket_disables_nagle(sim):
    """An inbound ESL client's accepted socket has TCP_NODELAY, as mod_event_socket sets it."""
    authed_inbound(sim)
    gevent.sleep(0)
    inbound = [lis for lis in sim._listeners if lis.kind == "inbound"]
    assert len(inbound) == 1 and _nodelay(inbound[0].sock)
