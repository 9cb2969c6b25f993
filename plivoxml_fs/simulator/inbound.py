"""Inbound event socket of the embedded FreeSWITCH (what port 8021 is on a real one).

Each client gets `auth/request`; `auth <password>` answers `+OK accepted`, a wrong password
`-ERR invalid` followed by the disconnect notice and the close; before authentication every
other command but `exit` is `-ERR command not found`. Afterwards the common commands of
esl.py; `linger`/`nolinger` say `-ERR not controlling a session`; anything else is
`-ERR command not found` (all as FreeSWITCH 1.10.12 answered them).
"""

from __future__ import annotations

import socket

from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.esl.messages import Command
from plivoxml_fs.simulator.bus import MYEVENTS
from plivoxml_fs.simulator.esl import EslListener


class InboundListener(EslListener):
    """One client of the inbound port."""

    kind = "inbound"

    def __init__(self, sim, sock) -> None:
        # TCP_NODELAY as mod_event_socket.c listener_run sets it: small replies and events leave
        # at once instead of waiting on Nagle and the client's delayed ACK (~40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sim, sock)
        self.authed = False
        self.send(encode_message([("Content-Type", "auth/request")]))

    def handle(self, command: Command) -> None:
        line = command.line
        lowered = line.lower()
        if lowered.startswith(("exit", "...")):
            self.exit()
        elif not self.authed:
            self._unauthed(line)
        elif lowered.startswith(("linger", "nolinger")):
            self.reply("-ERR not controlling a session")
        elif lowered.startswith("myevents "):
            self._myevents(line)
        elif not self.handle_common(command):
            self.reply("-ERR command not found")

    def _myevents(self, line: str) -> None:
        """`myevents <uuid> [format]`: this connection follows one channel, as an outbound one."""
        if self.sub.myevents:
            self.reply("-ERR aready enabled.")
            return
        words = line.split()
        uuid = words[1] if len(words) > 1 else ""
        fmt = words[2].lower() if len(words) > 2 else None
        channel = self.sim.channels.get(uuid)
        if channel is None and fmt:
            self.reply("-ERR invalid uuid")
            return
        self.sim.bus.remove(self)
        self.sub.myevents = True
        self.sub.session_uuid = channel.uuid if channel is not None else None
        self.sub.names |= MYEVENTS
        if fmt in ("plain", "json", "xml"):
            self.sub.format = fmt
        self.sub.enabled = True
        self.sim.bus.add(self)
        self.reply("+OK Events Enabled")

    def _unauthed(self, line: str) -> None:
        if not line.lower().startswith("auth "):
            self.reply("-ERR command not found")
            return
        if line[5:] == self.sim.password:
            self.authed = True
            self.reply("+OK accepted")
        else:
            self.reply("-ERR invalid")
            self.disconnect_notice()
            self.close()
