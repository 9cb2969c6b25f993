"""Test-local ESL clients for the embedded FreeSWITCH: raw sockets and the project's codec.

`Wire` frames what it receives itself (header block, Content-Length body) so tests can compare
exact bytes, and parses each message with the codec. `DaemonStub` stands where the daemon
would: it accepts the calls the simulator hands out and gives the tests a `Wire` for each.
`trace_messages` reads the recorded FreeSWITCH traces.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import gevent
import gevent.queue
import gevent.socket
from gevent.server import StreamServer

from plivoxml_fs.esl.codec import MessageParser, encode_command
from plivoxml_fs.esl.messages import Message

#: The shared trace set, vendored (tests/esl/fs-traces/README.md says where it comes from).
SHARED_TRACES = Path(__file__).resolve().parents[1] / "esl" / "fs-traces"
LOCAL_TRACES = Path(__file__).resolve().parent / "fs-traces"
#: Wall seconds a test waits for something that should come at once.
WAIT_S = 3.0


class Wire:
    """One ESL connection seen from the client side."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self.received: list[tuple[bytes, Message]] = []

    @classmethod
    def connect(cls, address) -> Wire:
        return cls(gevent.socket.create_connection(tuple(address[:2]), timeout=WAIT_S))

    def send(self, line: str, headers=(), body: bytes | None = None) -> None:
        self.sock.sendall(encode_command(line, headers, body))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_raw(self, timeout: float = WAIT_S) -> tuple[bytes, Message]:
        """The next message: its exact bytes and the codec's parse of them."""
        with gevent.Timeout(timeout, AssertionError(f"no message within {timeout} s")):
            while True:
                framed = self._frame()
                if framed is not None:
                    message = MessageParser().feed(framed)[0]
                    self.received.append((framed, message))
                    return framed, message
                data = self.sock.recv(65536)
                if not data:
                    raise AssertionError("connection closed while waiting for a message")
                self._buffer += data

    def _frame(self) -> bytes | None:
        end = self._buffer.find(b"\n\n")
        if end == -1:
            return None
        match = re.search(rb"^Content-Length: (\d+)$", bytes(self._buffer[:end]), re.M)
        length = int(match.group(1)) if match else 0
        if len(self._buffer) < end + 2 + length:
            return None
        framed = bytes(self._buffer[: end + 2 + length])
        del self._buffer[: end + 2 + length]
        return framed

    def read(self, timeout: float = WAIT_S) -> Message:
        return self.read_raw(timeout)[1]

    def command(self, line: str, headers=(), body: bytes | None = None) -> Message:
        """Send a command and return the next message (its reply when no event is due)."""
        self.send(line, headers, body)
        return self.read()

    def until(self, predicate, timeout: float = WAIT_S) -> list[Message]:
        """Messages read up to and including the first that satisfies `predicate`."""
        seen = []
        with gevent.Timeout(timeout, AssertionError(f"not seen within {timeout} s: {seen!r}")):
            while True:
                message = self.read(timeout)
                seen.append(message)
                if predicate(message):
                    return seen

    def closed(self, timeout: float = WAIT_S) -> bool:
        """True when the peer closes the connection (after any bytes still to come)."""
        try:
            with gevent.Timeout(timeout):
                while True:
                    if not self.sock.recv(65536):
                        return True
        except gevent.Timeout:
            return False
        except OSError:
            return True

    def quiet(self, timeout: float = 0.2) -> bool:
        """True when nothing arrives within `timeout`."""
        try:
            self.read_raw(timeout)
        except AssertionError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


def authed_inbound(sim, password: str = "ClueCon") -> Wire:
    wire = Wire.connect(sim.inbound_address)
    assert wire.read().content_type == "auth/request"
    assert wire.command(f"auth {password}").reply_text == "+OK accepted"
    return wire


def is_event(name: str, app: str | None = None):
    def check(message: Message) -> bool:
        if not message.is_event:
            return False
        event = message.event()
        return event.name == name and (app is None or event.get("Application") == app)

    return check


def summary(messages: list[Message]) -> list[str]:
    """`EVENT_NAME app` per event, `notice <disposition>` per disconnect notice."""
    out = []
    for message in messages:
        if message.is_event:
            event = message.event()
            out.append(f"{event.name} {event.get('Application') or ''}".strip())
        elif message.content_type == "text/disconnect-notice":
            out.append(f"notice {message.get('Content-Disposition')}")
        else:
            out.append(f"reply {message.reply_text}")
    return out


class DaemonStub:
    """Accepts the outbound-socket calls; `next_call()` gives the test each call's Wire."""

    def __init__(self) -> None:
        self.calls: gevent.queue.Queue = gevent.queue.Queue()
        self.server = StreamServer(("127.0.0.1", 0), self._accept)
        self.server.start()
        self._hold: list = []

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address[:2]

    def _accept(self, sock, address) -> None:
        done = gevent.event.Event()
        self._hold.append(done)
        self.calls.put(Wire(sock))
        done.wait()  # keep the socket open: StreamServer closes it when the handler returns

    def next_call(self, timeout: float = WAIT_S) -> Wire:
        return self.calls.get(timeout=timeout)

    def stop(self) -> None:
        for done in self._hold:
            done.set()
        self.server.stop(timeout=1)


# -- the recorded traces ---------------------------------------------------------------------
_MARK = re.compile(r"^(<<<|>>>) \[([^\]]+)\] ([\d.]+)\n", re.M)


def trace_messages(path: Path) -> list[tuple[str, str, str]]:
    """(direction, connection, text) per message of a trace, split on its own markers."""
    text = path.read_text(encoding="utf-8")
    parts = _MARK.split(text)
    out = []
    for i in range(1, len(parts), 4):
        out.append((parts[i], parts[i + 1], parts[i + 2 + 1]))
    return out


def header_names(text: str) -> list[str]:
    """Header names of a message text (outer envelope and, for events, the event body)."""
    names = []
    for line in text.split("\n"):
        if ": " in line:
            names.append(line.split(": ", 1)[0])
    return names


def trace_event(path: Path, name: str, conn_prefix: str = "outbound") -> str:
    """The event body text of the first `name` event FreeSWITCH sent on such a connection."""
    for direction, conn, text in trace_messages(path):
        if direction == "<<<" and conn.startswith(conn_prefix) and f"\nEvent-Name: {name}\n" in text:
            return text.split("\n\n", 1)[1]
    raise AssertionError(f"{path.name}: no {name} event on {conn_prefix}")


def event_names_on(path: Path, conn: str) -> list[str]:
    """`EVENT app` / `notice disposition` for everything FreeSWITCH sent on `conn`."""
    out = []
    for direction, c, text in trace_messages(path):
        if direction != "<<<" or c != conn:
            continue
        head = dict(line.split(": ", 1) for line in text.split("\n") if ": " in line)
        if "Event-Name" in head and head.get("Content-Type", "").startswith("text/event"):
            app = unquote(head.get("Application", ""))
            out.append(f"{head['Event-Name']} {app}".strip())
        elif head.get("Content-Type") == "text/disconnect-notice":
            out.append(f"notice {head.get('Content-Disposition')}")
    return out


# -- a call through the daemon stub ----------------------------------------------------------
LIFECYCLE_VARS = "origination_uuid=aleg-L1,origination_caller_id_number=1001"


def start_call(sim, daemon, *, dest: str = "L1", variables: str = LIFECYCLE_VARS):
    """Originate a loopback call; the daemon stub sends `connect`. (a_uuid, wire, raw, reply)."""
    a_uuid = sim.originate(f"{{{variables}}}loopback/{dest}/default")
    wire = daemon.next_call()
    wire.send("connect")
    raw, reply = wire.read_raw()
    return a_uuid, wire, raw, reply


def set_up(wire, linger: int | None = 5) -> list[bytes]:
    """What the daemon sends after connect: myevents, event ..., linger. The replies' bytes."""
    lines = ["myevents", "event plain BACKGROUND_JOB CUSTOM conference::maintenance"]
    if linger is not None:
        lines.append(f"linger {linger}")
    raws = []
    for line in lines:
        wire.send(line)
        raw, message = wire.read_raw()
        while message.is_event:  # CHANNEL_PARK may come first
            raw, message = wire.read_raw()
        raws.append(raw)
    return raws


def execute(wire, app: str, arg: str | None = None, *, uuid: str | None = None, header=False):
    """sendmsg execute as fs/commands.py builds it (arg in a body, or in execute-app-arg)."""
    headers = [("call-command", "execute"), ("execute-app-name", app)]
    body = None
    if arg is not None and header:
        headers.append(("execute-app-arg", arg))
    headers.append(("event-lock", "true"))
    if uuid:
        headers.append(("Event-UUID", uuid))
    if arg is not None and not header:
        headers.append(("content-type", "text/plain"))
        body = arg.encode()
    wire.send("sendmsg", headers, body)


def complete(app_uuid: str):
    """Predicate: the CHANNEL_EXECUTE_COMPLETE of the execute with this Event-UUID."""

    def check(message) -> bool:
        return (
            message.is_event
            and message.event().name == "CHANNEL_EXECUTE_COMPLETE"
            and message.event().get("Application-UUID") == app_uuid
        )

    return check


def is_final_notice(message) -> bool:
    return (
        message.content_type == "text/disconnect-notice"
        and message.get("Content-Disposition") == "disconnect"
    )
