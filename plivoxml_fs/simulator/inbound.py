"""Inbound event socket of the embedded FreeSWITCH (what port 8021 is on a real one).

Each client gets `auth/request`; `auth <password>` answers `+OK accepted`, a wrong password
`-ERR invalid` followed by the disconnect notice and the close; before authentication every
other command but `exit` is `-ERR command not found`. Afterwards the common commands of
esl.py; `linger`/`nolinger` say `-ERR not controlling a session`; anything else is
`-ERR command not found` (all as FreeSWITCH 1.10.12 answered them).
"""

from __future__ import annotations

from plivoxml_fs.esl.codec import encode_message
from plivoxml_fs.esl.messages import Command
from plivoxml_fs.simulator.esl import EslListener


class InboundListener(EslListener):
    """One client of the inbound port."""

    kind = "inbound"

    def __init__(self, sim, sock) -> None:
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
        elif not self.handle_common(command):
            self.reply("-ERR command not found")

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
