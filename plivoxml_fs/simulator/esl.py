"""One event-socket connection of the embedded FreeSWITCH, inbound or outbound.

`EslListener` is what mod_event_socket keeps per connection: the socket, the command reader,
one writer greenlet fed by an ordered queue (replies and events leave in the order they were
produced), the event subscription, and the commands both kinds of connection accept: `event`,
`nixevent`, `noevents`, `filter`, `api`, `bgapi`, `sendmsg <uuid>`, `exit`. Reply texts are
mod_event_socket.c's. inbound.py adds authentication; outbound.py adds the controlled channel
(`connect`, `myevents`, `linger`, `sendmsg` to it).
"""

from __future__ import annotations

import abc
import contextlib
import logging
import uuid as uuidlib
from typing import TYPE_CHECKING

import gevent
import gevent.queue

from plivoxml_fs.errors import ProtocolError
from plivoxml_fs.esl.codec import (
    CommandParser,
    encode_event_json,
    encode_event_plain,
    encode_message,
    frame_event,
    url_encode,
)
from plivoxml_fs.esl.messages import Command
from plivoxml_fs.simulator import unicast
from plivoxml_fs.simulator.apps import Execute, HangupCommand
from plivoxml_fs.simulator.bus import EVENT_NAMES, Calling, SimEvent, Subscription
from plivoxml_fs.simulator.causes import cause_from

if TYPE_CHECKING:
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

log = logging.getLogger("plivoxml_fs.simulator")

BACKGROUND_JOB = Calling("mod_event_socket.c", "api_exec", 1572)
#: switch_log_str2level's names.
LOG_LEVELS = {"console": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5,
              "info": 6, "debug": 7}
#: Events queued for one connection before further ones are lost (mod_event_socket MAX_QUEUE_LEN).
MAX_QUEUE_LEN = 100_000
#: Lost events after which the connection is dropped (mod_event_socket MAX_MISSED).
MAX_MISSED = 500
GOODBYE = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
_CLOSE = object()


class EslListener(abc.ABC):
    """Shared machinery of inbound and outbound connections."""

    kind = "esl"

    def __init__(self, sim: EmbeddedFreeSwitch, sock) -> None:
        self.sim = sim
        self.sock = sock
        self.sub = Subscription()
        self.parser = CommandParser()
        self._out: gevent.queue.Queue = gevent.queue.Queue()
        self.closed = False
        self.logging = False  # `log` accepted; the embedded FreeSWITCH writes no log/data
        self.lost_events = 0
        self._writer = gevent.spawn(self._write_loop)

    # -- output -----------------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            data = self._out.get()
            if data is _CLOSE:
                break
            try:
                self.sock.sendall(data)
            except OSError:
                break
        self._close_socket()

    def _close_socket(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._out.put(data)

    def close(self) -> None:
        """Close once everything queued has been written."""
        if not self.closed:
            self.closed = True
            self._out.put(_CLOSE)
            self.sim.bus.remove(self)

    def wait_flushed(self, timeout: float | None = None) -> None:
        """Wait until the writer has sent what was queued before the close."""
        self._writer.join(timeout)

    def reply(self, text: str, extra: tuple[tuple[str, str], ...] = ()) -> None:
        headers = [("Content-Type", "command/reply"), ("Reply-Text", text), *extra]
        self.send(encode_message(headers))

    def api_response(self, body: str) -> None:
        data = body.encode("utf-8")
        self.send(
            encode_message([("Content-Type", "api/response"), ("Content-Length", str(len(data)))], data)
        )

    def session_key(self) -> str | None:
        """The channel whose events alone this connection can receive (myevents), if any."""
        return self.sub.session_uuid

    def offer(self, event: SimEvent) -> None:
        """Bus delivery: queue the event when this connection subscribed to it."""
        if self.closed or not self.sub.wants(event):
            return
        if self._out.qsize() >= MAX_QUEUE_LEN:
            self._lose_event()
            return
        if self.sub.format == "json":
            self.send(frame_event(encode_event_json(event.headers, event.body), "text/event-json"))
        elif self.sub.format == "xml":
            self.send(frame_event(encode_event_xml(event.headers, event.body), "text/event-xml"))
        else:
            self.send(frame_event(encode_event_plain(event.headers, event.body)))

    def _lose_event(self) -> None:
        """The client does not read: drop the event; past MAX_MISSED drop the client, as FS."""
        self.lost_events += 1
        if self.lost_events > MAX_MISSED:
            log.warning("simulator %s connection: killed after %d lost events (not reading)",
                        self.kind, self.lost_events)
            self.sim.bus.remove(self)
            self.closed = True
            self._close_socket()
            self._out.put(_CLOSE)  # ends the writer (its socket is closed already)

    def disconnect_notice(self, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send(
            encode_message(
                [("Content-Type", "text/disconnect-notice"), *headers,
                 ("Content-Length", str(len(GOODBYE)))],
                GOODBYE,
            )
        )

    # -- input ------------------------------------------------------------------------------
    def serve(self) -> None:
        """Read and handle commands until the peer leaves or the connection is closed."""
        try:
            while not self.closed:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                try:
                    commands = self.parser.feed(data)
                except ProtocolError as exc:
                    log.warning("simulator %s connection: %s", self.kind, exc)
                    break
                for command in commands:
                    if self.closed:
                        break
                    self.handle(command)
        finally:
            self.peer_gone()

    def peer_gone(self) -> None:
        """The peer closed the socket or we finished: stop delivering."""
        self.sim.bus.remove(self)
        self.sim.untrack(self)
        if not self.closed:
            self.closed = True
            self._out.put(_CLOSE)

    @abc.abstractmethod
    def handle(self, command: Command) -> None:
        """Answer one command (each kind of connection dispatches its own)."""

    def handle_common(self, command: Command) -> bool:
        """Commands every authenticated connection accepts. False when not one of them."""
        line = command.line
        word = line.split(" ", 1)[0].lower()
        handler = {
            "event": self._event,
            "nixevent": self._nixevent,
            "noevents": self._noevents,
            "filter": self._filter,
            "log": self._log,
            "nolog": self._nolog,
            "divert_events": self._divert_events,
            "api": self._api,
            "bgapi": self._bgapi,
            "sendmsg": self._sendmsg,
        }.get(word)
        if handler is None:
            return False
        handler(command)
        return True

    def exit(self) -> None:
        self.reply("+OK bye")
        self.disconnect_notice(self.disconnect_headers())
        self.close()

    def disconnect_headers(self) -> tuple[tuple[str, str], ...]:
        return ()

    # -- subscriptions ----------------------------------------------------------------------
    def _event(self, command: Command) -> None:
        words = command.line.split()[1:]
        fmt_word = words[0].lower() if words else ""
        if fmt_word in ("plain", "json", "xml"):
            self.sub.format = fmt_word
            words = words[1:]
        count = 0
        custom = False
        for word in words:
            if custom:
                self.sub.subclasses.add(word)
                continue
            name = word.upper()
            if name not in EVENT_NAMES:
                continue
            count += 1
            if name == "ALL":
                self.sub.all_events = True
            self.sub.names.add(name)
            if name == "CUSTOM":
                custom = True
        if not count:
            self.reply("-ERR no keywords supplied")
            return
        self.sub.enabled = True
        self.sim.bus.add(self)
        self.reply(f"+OK event listener enabled {self.sub.format}")

    def _nixevent(self, command: Command) -> None:
        words = command.line.split()[1:]
        if not words:
            self.reply("-ERR no keywords supplied")
            return
        custom = False
        for word in words:
            if custom:
                self.sub.subclasses.discard(word)
                continue
            name = word.upper()
            if name == "ALL":
                self.sub.all_events = False
                self.sub.names.clear()
            self.sub.names.discard(name)
            custom = custom or name == "CUSTOM"
        self.reply("+OK events nixed")

    def _noevents(self, command: Command) -> None:
        if self.sub.enabled:
            self.sub.enabled = False
            self.sub.names.clear()
            self.sub.subclasses.clear()
            self.sub.all_events = False
            self.reply("+OK no longer listening for events")
        else:
            self.reply("-ERR not listening for events")

    def _filter(self, command: Command) -> None:
        parts = command.line.split(" ", 2)
        if len(parts) < 2:  # FreeSWITCH only knows `filter ` with a space
            self.reply("-ERR command not found")
            return
        if not parts[1]:
            self.reply("-ERR invalid syntax")
            return
        if parts[1].lower() == "delete":
            rest = command.line.split(" ", 3)[2:]
            header = rest[0] if rest else ""
            value = rest[1] if len(rest) > 1 else None
            self.sub.filters = [
                (h, v) for h, v in self.sub.filters if not (h == header and value in (None, v))
            ]
            shown = value if value is not None else ""
            self.reply(f"+OK filter deleted. [{header}][{shown}]")
            return
        if len(parts) < 3:
            self.reply("-ERR invalid syntax")
            return
        self.sub.filters.append((parts[1], parts[2]))
        self.reply(f"+OK filter added. [{parts[1]}]=[{parts[2]}]")

    def _log(self, command: Command) -> None:
        word = command.line[4:].strip() or "debug"
        level = LOG_LEVELS.get(word.lower())
        if level is None and word.isdigit() and int(word) <= 7:
            level = int(word)
        if level is None:
            self.reply("-ERR invalid log level")
            return
        self.logging = True
        self.reply(f"+OK log level {word} [{level}]")

    def _nolog(self, command: Command) -> None:
        if self.logging:
            self.logging = False
            self.reply("+OK no longer logging")
        else:
            self.reply("-ERR not loging")

    def _divert_events(self, command: Command) -> None:
        self.reply("-ERR not controlling a session.")

    # -- api, bgapi -------------------------------------------------------------------------
    def _api(self, command: Command) -> None:
        text = command.line[4:].strip() if len(command.line) > 4 else ""
        if not text:
            self.reply("-ERR command not found")
            return
        self.api_response(self.sim.api(text, owner=self.owner()))

    def _bgapi(self, command: Command) -> None:
        text = command.line[6:].strip() if len(command.line) > 6 else ""
        if not text:
            self.reply("-ERR command not found")
            return
        job = command.get("Job-UUID") or str(uuidlib.uuid4())
        self.reply(f"+OK Job-UUID: {job}", (("Job-UUID", job),))
        gevent.spawn(self._run_job, text, job, self.owner())

    def _run_job(self, text: str, job: str, owner) -> None:
        result = self.sim.api(text, owner=owner)
        cmd, _, arg = text.partition(" ")
        headers = [("Job-UUID", job)]
        if owner is not None:
            headers.append(("Job-Owner-UUID", owner.uuid))
        headers.append(("Job-Command", cmd))
        if arg.strip():
            headers.append(("Job-Command-Arg", arg))
        event = self.sim.factory.make("BACKGROUND_JOB", BACKGROUND_JOB, headers, result.encode())
        self.sim.bus.fire(event)

    def owner(self):
        """The channel this connection controls (outbound), else None."""
        return None

    # -- sendmsg ----------------------------------------------------------------------------
    def _sendmsg(self, command: Command) -> None:
        parts = command.line.split()
        target = parts[1] if len(parts) > 1 else None
        channel = self.sim.channels.get(target) if target else self.owner()
        if channel is None:
            self.reply(f"-ERR invalid session id [{target or ''}]")
            return
        self.reply("+OK")
        queue_sendmsg(channel, command)


def encode_event_xml(headers, body: bytes = b"") -> bytes:
    """A text/event-xml body as switch_event_xmlize + switch_xml_toxml write it."""
    lines = ["<event>", "  <headers>"]
    lines += [f"    <{name}>{_xml_text(url_encode(value))}</{name}>" for name, value in headers]
    lines.append("  </headers>")
    if body:
        text = body.decode("utf-8", "replace")
        closing = "  </body>" if text.endswith("\n") else "</body>"
        lines.append(f"  <Content-Length>{len(body)}</Content-Length>")
        lines.append(f"  <body>{_xml_text(text)}{closing}")
    lines.append("</event>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def queue_sendmsg(channel, command: Command) -> None:
    """Queue what a sendmsg asks of `channel` (execute, hangup, unicast); other call-commands
    are no-ops."""
    if not channel.is_up:
        return
    kind = (command.get("call-command") or "").lower()
    if kind == "execute":
        app = (command.get("execute-app-name") or "").strip()
        arg = command.get("execute-app-arg")
        if arg is None:
            arg = command.body.decode("utf-8", "replace")
        try:
            loops = max(1, int(command.get("loops") or "1"))
        except ValueError:
            loops = 1
        app_uuid = command.get("Event-UUID") or str(uuidlib.uuid4())
        channel.commands.put(Execute(app, arg, app_uuid, loops))
    elif kind == "hangup":
        channel.commands.put(HangupCommand(cause_from(command.get("hangup-cause") or "")))
    elif kind == "unicast":
        unicast.request(channel, command)
