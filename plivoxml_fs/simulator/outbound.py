"""Outbound event socket: the embedded FreeSWITCH hands a call to `socket <addr> async full`.

`run_socket_app` is the B leg's dialplan: the `socket` application connects to the daemon,
answers `connect` with the channel data (every header URL-encoded, `Reply-Text: %2BOK%0A`,
`Socket-Mode: async`, `Control: full`), parks the channel and runs what `sendmsg` queues.
`OutboundSession` adds the controlled-channel commands: `myevents` (`+OK Events Enabled`,
`-ERR aready enabled.` the second time, FreeSWITCH's spelling), `linger [N]`, `nolinger`,
`getvar`, `resume`, `sendmsg` to its own channel, `exit`.

Hangup, as lifecycle.txt shows: CHANNEL_HANGUP, then with linger a `text/disconnect-notice`
(`Content-Disposition: linger`), the events that still come (the running application's
CHANNEL_EXECUTE_COMPLETE, CHANNEL_UNPARK, the socket application's completion, CHANNEL_STATE
twice, CHANNEL_HANGUP_COMPLETE), then after the linger time the final notice
(`Content-Disposition: disconnect`) and the close. Without linger the final notice follows
CHANNEL_HANGUP_COMPLETE. (On FreeSWITCH both notices come from the socket's own thread, which
races the session's teardown: the linger notice was also seen after CHANNEL_HANGUP_COMPLETE,
and without linger the close right after CHANNEL_HANGUP; clients must accept either. The order
here is lifecycle.txt's.) When the daemon leaves (`exit` or closing the socket) the channel
hangs up with NORMAL_CLEARING.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid as uuidlib

import gevent
import gevent.event
import gevent.socket

from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.esl.messages import Command
from plivoxml_fs.simulator.apps import EXECUTE, PARK, UNPARK, complete_app, park_loop, wake
from plivoxml_fs.simulator.bus import MYEVENTS, Calling
from plivoxml_fs.simulator.channels import Channel
from plivoxml_fs.simulator.esl import EslListener, queue_sendmsg

log = logging.getLogger("plivoxml_fs.simulator")

CONNECT = Calling("mod_event_socket.c", "parse_command", 2021)
#: Seconds to wait for the daemon to accept the socket connection.
CONNECT_TIMEOUT_S = 5.0
#: Bytes of a value `getvar` answers with (mod_event_socket's reply buffer is 512 bytes).
GETVAR_MAX_BYTES = 511


class OutboundSession(EslListener):
    """The daemon's end of one call's outbound socket, seen from FreeSWITCH."""

    kind = "outbound"

    def __init__(self, sim, sock, channel: Channel) -> None:
        super().__init__(sim, sock)
        self.channel = channel
        self.linger_s: int | None = None  # None: no linger; -1: linger until the daemon exits
        self.lingering = False
        self.parked = gevent.event.Event()  # the first command after connect was answered
        self.gone = gevent.event.Event()  # the daemon left (exit or socket closed)
        self._connected = False
        self._linger_deadline: float | None = None

    def owner(self) -> Channel:
        return self.channel

    def disconnect_headers(self) -> tuple[tuple[str, str], ...]:
        return (
            ("Controlled-Session-UUID", self.channel.uuid),
            ("Content-Disposition", "disconnect"),
        )

    # -- commands ---------------------------------------------------------------------------
    def handle(self, command: Command) -> None:
        line = command.line
        word = line.split(" ", 1)[0].lower()
        if word in ("exit", "..."):
            self.exit()
            return
        handler = {
            "connect": self._connect,
            "myevents": self._myevents,
            "linger": self._linger,
            "nolinger": self._nolinger,
            "getvar": self._getvar,
            "resume": self._resume,
            "divert_events": self._divert,
        }.get(word)
        if handler is not None:
            handler(command)
        elif word == "sendmsg" and len(line.split()) == 1:
            self.reply("+OK")
            queue_sendmsg(self.channel, command)
        elif not self.handle_common(command):
            self.reply("-ERR command not found")
        if self._connected and word != "connect":
            self.parked.set()

    def _connect(self, command: Command) -> None:
        self._connected = True
        channel = self.channel
        headers = channel.profile_headers("Channel") + channel.channel_headers()
        event = self.sim.factory.make("CHANNEL_DATA", CONNECT, headers)
        tail = [
            ("Content-Type", "command/reply"),
            ("Reply-Text", "+OK\n"),
            ("Socket-Mode", "async"),
            ("Control", "full"),
        ]
        self.send(encode_message([*event.headers, *tail], urlencode=True))

    def _myevents(self, command: Command) -> None:
        if self.sub.myevents:
            self.reply("-ERR aready enabled.")
            return
        self.sim.bus.remove(self)
        self.sub.myevents = True
        self.sub.session_uuid = self.channel.uuid
        self.sub.names |= MYEVENTS
        lowered = command.line.lower()
        if "json" in lowered:
            self.sub.format = "json"
        elif "xml" in lowered:
            self.sub.format = "xml"
        self.sub.enabled = True
        self.sim.bus.add(self)
        self.reply("+OK Events Enabled")

    def _linger(self, command: Command) -> None:
        arg = command.line[6:]
        if arg.startswith(" ") and arg[1:]:
            digits = arg[1:].strip()
            self.linger_s = int(digits) if digits.lstrip("-").isdigit() else 0
            self.reply(f"+OK will linger {self.linger_s} seconds")
        else:
            self.linger_s = -1
            self.reply("+OK will linger")

    def _nolinger(self, command: Command) -> None:
        self.linger_s = None
        self.reply("+OK will not linger")

    def _getvar(self, command: Command) -> None:
        # mod_event_socket writes the value into its 512-byte reply buffer, and an empty reply
        # becomes "-ERR command not found" (probe-urls.txt).
        _, _, name = command.line.partition(" ")
        value = (self.channel.get_var(name.strip()) or "").encode("utf-8")[:GETVAR_MAX_BYTES]
        self.reply(value.decode("utf-8", "ignore") or "-ERR command not found")

    def _divert(self, command: Command) -> None:
        on = command.line[len("divert_events") :].strip().lower() == "on"
        self.reply("+OK events diverted" if on else "+OK events not diverted")

    def _resume(self, command: Command) -> None:
        self.channel.set_var("socket_resume", "true")
        self.reply("+OK")

    def exit(self) -> None:
        super().exit()
        self._left()

    def peer_gone(self) -> None:
        super().peer_gone()
        self._left()

    def _left(self) -> None:
        if not self.gone.is_set():
            self.gone.set()
            wake(self.channel)

    # -- the channel's end ------------------------------------------------------------------
    def channel_hangup(self, channel: Channel) -> None:
        """CHANNEL_HANGUP was fired: with linger, the first disconnect notice."""
        if self.linger_s is None or self.closed:
            return
        self.lingering = True
        headers = [
            ("Content-Type", "text/disconnect-notice"),
            ("Controlled-Session-UUID", channel.uuid),
            ("Content-Disposition", "linger"),
            ("Channel-Name", channel.name),
            ("Linger-Time", str(self.linger_s)),
            ("Content-Length", "0"),
        ]
        self.send(encode_message(headers))
        if self.linger_s >= 0:
            wall = self.sim.clock.wall_s(self.linger_s * 1000)
            self._linger_deadline = time.monotonic() + wall

    def channel_destroyed(self, channel: Channel) -> None:
        """CHANNEL_HANGUP_COMPLETE was fired: the final notice, now or after the linger."""
        if self.closed:
            return
        if not self.lingering:
            self._final()
        elif self._linger_deadline is not None:
            gevent.spawn_later(max(0.0, self._linger_deadline - time.monotonic()), self._final)

    def _final(self) -> None:
        if not self.closed:
            self.disconnect_notice(self.disconnect_headers())
            self.close()


def run_socket_app(channel: Channel) -> None:
    """The B leg's dialplan: `socket <address> async full`, then the teardown."""
    sim = channel.sim
    host, port = sim.socket_address[:2]
    data = f"{host}:{port} async full"
    app_uuid = str(uuidlib.uuid4())
    channel.set_var("current_application_data", data)
    channel.set_var("current_application", "socket")
    extra = [("Application", "socket"), ("Application-Data", data), ("Application-UUID", app_uuid)]
    channel.fire("CHANNEL_EXECUTE", EXECUTE, extra)
    channel.set_var("socket_host", host)
    session = _open(channel, host, port)
    parked = False
    if session is not None:
        gevent.wait([session.parked, session.gone, channel.hungup], count=1)
        if channel.is_up and not session.gone.is_set():
            parked = True
            channel.fire("CHANNEL_PARK", PARK)
            park_loop(channel, done=session.gone.is_set)
    if channel.is_up:
        channel.hangup("NORMAL_CLEARING")
    if parked:
        channel.fire("CHANNEL_UNPARK", UNPARK)
    complete_app(channel, "socket", data, app_uuid, channel.get_var("current_application_response"))
    channel.finish()


def _open(channel: Channel, host: str, port: int) -> OutboundSession | None:
    try:
        sock = gevent.socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:
        log.warning("simulator: cannot connect call %s to %s:%s (%s)", channel.uuid, host, port, exc)
        return None
    sock.settimeout(None)
    # TCP_NODELAY as mod_event_socket.c listener_run sets it; without it Nagle plus the peer's
    # delayed ACK hold small writes (the connect reply, events) back by ~40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    session = OutboundSession(channel.sim, sock, channel)
    channel.listener = session
    channel.sim.track(session)
    gevent.spawn(session.serve)
    return session
