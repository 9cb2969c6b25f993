"""A small scripted FreeSWITCH for transport tests: real TCP on 127.0.0.1, bytes from the codec.

Each test scripts what "FreeSWITCH" does with a function that receives a `FakeSide` (one end
of a connection): read the next command, send replies, events and notices as FreeSWITCH would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import gevent
import gevent.queue
import gevent.server
import gevent.socket

from plivoxml_fs.esl.codec import (
    CommandParser,
    encode_event_plain,
    encode_message,
    frame_event,
)
from plivoxml_fs.esl.messages import Command

#: How long a scripted side waits for a command before the test fails, in seconds.
READ_TIMEOUT_S = 3.0


class FakeSide:
    """FreeSWITCH's end of one event-socket connection."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.parser = CommandParser()
        self.pending: deque[Command] = deque()
        self.received: list[Command] = []

    def read(self, timeout: float = READ_TIMEOUT_S) -> Command | None:
        """The next command, or None at EOF; gevent.Timeout if none comes within `timeout`."""
        with gevent.Timeout(timeout):
            while not self.pending:
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.pending.extend(self.parser.feed(data))
        command = self.pending.popleft()
        self.received.append(command)
        return command

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self, text: str, *extra: tuple[str, str]) -> None:
        self.send(encode_message([("Content-Type", "command/reply"), ("Reply-Text", text), *extra]))

    def api_response(self, text: str) -> None:
        self.send(encode_message([("Content-Type", "api/response")], text.encode()))

    def event(self, headers: Sequence[tuple[str, str]], body: bytes = b"") -> None:
        self.send(frame_event(encode_event_plain(headers, body)))

    def notice(self, disposition: str, uuid: str = "u-1") -> None:
        if disposition == "linger":
            self.send(
                encode_message(
                    [
                        ("Content-Type", "text/disconnect-notice"),
                        ("Controlled-Session-UUID", uuid),
                        ("Content-Disposition", "linger"),
                        ("Linger-Time", "5"),
                        ("Content-Length", "0"),
                    ]
                )
            )
        else:
            body = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
            self.send(
                encode_message(
                    [
                        ("Content-Type", "text/disconnect-notice"),
                        ("Controlled-Session-UUID", uuid),
                        ("Content-Disposition", disposition),
                    ],
                    body,
                )
            )

    def close(self) -> None:
        self.sock.close()


class FakeInbound:
    """FreeSWITCH's inbound port: every accepted connection runs `script(side)`."""

    def __init__(self, script: Callable[[FakeSide], None], port: int = 0) -> None:
        self.script = script
        self.sides: gevent.queue.Queue = gevent.queue.Queue()
        self.server = gevent.server.StreamServer(("127.0.0.1", port), self._handle)

    def _handle(self, sock, _address) -> None:
        side = FakeSide(sock)
        self.sides.put(side)
        try:
            self.script(side)
        finally:
            sock.close()

    def start(self) -> FakeInbound:
        self.server.start()
        return self

    @property
    def port(self) -> int:
        return self.server.address[1]

    def stop(self) -> None:
        self.server.stop(timeout=0.1)


def dial(address: tuple[str, int]) -> FakeSide:
    """FreeSWITCH's `socket` application connecting to our outbound server."""
    return FakeSide(gevent.socket.create_connection(address, timeout=READ_TIMEOUT_S))


def channel_data(uuid: str) -> bytes:
    """A connect reply as FreeSWITCH sends it: URL-encoded channel data, `%2BOK%0A`."""
    return encode_message(
        [
            ("Event-Name", "CHANNEL_DATA"),
            ("Unique-ID", uuid),
            ("Caller-Caller-ID-Number", "1001"),
            ("Caller-Destination-Number", "L1"),
            ("variable_plivoxml_answer_url", "http://example.test/answer?a=1&b=2"),
            ("Content-Type", "command/reply"),
            ("Reply-Text", "+OK\n"),
            ("Socket-Mode", "async"),
            ("Control", "full"),
        ],
        urlencode=True,
    )


def answer_call(side: FakeSide, uuid: str) -> None:
    """Play FreeSWITCH's part of `connect` on an outbound socket."""
    command = side.read()
    assert command is not None and command.line == "connect", command
    side.send(channel_data(uuid))
