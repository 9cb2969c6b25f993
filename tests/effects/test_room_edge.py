"""GeventEdge: how the room engine's decisions are performed (commands, webhooks, timers)."""

from __future__ import annotations

import time

import gevent

from plivoxml_fs.effects.rooms import GeventEdge
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.rooms.model import Command, CommandDone
from plivoxml_fs.testing import FakeConnection, RecordingOutbox


class Inbound:
    """An InboundClient stand-in: `connected`, and bgapi answering a BACKGROUND_JOB."""

    def __init__(self, connected: bool = True) -> None:
        self.connected = connected
        self.sent: list[str] = []

    def bgapi(self, cmd: str, *, timeout: float) -> Event:
        self.sent.append(cmd)
        return Event({"Event-Name": "BACKGROUND_JOB"}, b"+OK kicked 3\n")


def answers(edge: GeventEdge, command: Command, via=None) -> CommandDone:
    got: list[CommandDone] = []
    edge.send(command, got.append, via)
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        gevent.sleep(0.01)
    (done,) = got
    return done


def test_commands_go_as_bgapi_over_the_inbound_connection() -> None:
    """Connected: bgapi on the inbound connection; its BACKGROUND_JOB body is the answer."""
    inbound = Inbound()
    edge = GeventEdge(lambda: inbound, RecordingOutbox(), command_timeout_s=1)
    conn = FakeConnection()
    done = answers(edge, Command("conference r1 kick 3", "kick#1"), conn)
    assert (done.token, done.text, inbound.sent) == ("kick#1", "+OK kicked 3\n",
                                                     ["conference r1 kick 3"])
    assert conn.lines == []


def test_while_the_inbound_connection_is_down_the_members_socket_carries_it() -> None:
    """Inbound down: the command goes as `api` over the member's own connection."""
    inbound = Inbound(connected=False)
    edge = GeventEdge(lambda: inbound, RecordingOutbox(), command_timeout_s=1)
    conn = FakeConnection()
    done = answers(edge, Command("conference r1 hup 3", "hup#1"), conn)
    assert done.text == "+OK" and inbound.sent == []
    assert conn.lines == ["api conference r1 hup 3"]


def test_a_folder_that_cannot_be_made_answers_err(tmp_path) -> None:
    """make_dir in the way of a file: `-ERR <the OSError>`, nothing sent."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    inbound = Inbound()
    edge = GeventEdge(lambda: inbound, RecordingOutbox(), command_timeout_s=1)
    done = answers(edge, Command("conference r1 recording start /x.wav", "rec#1",
                                 make_dir=str(blocker / "rec")))
    assert done.text.startswith("-ERR [Errno 20] Not a directory") and inbound.sent == []


def test_a_cancelled_timer_never_fires() -> None:
    """arm returns a handle; cancel() stops the timer (due first), a later one still fires."""
    edge = GeventEdge(lambda: None, RecordingOutbox(), command_timeout_s=1)
    fired: list[str] = []
    edge.arm(time.time() + 0.01, lambda: fired.append("cancelled")).cancel()
    edge.arm(time.time() + 0.05, lambda: fired.append("fired"))
    deadline = time.monotonic() + 5
    while not fired and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert fired == ["fired"]


def test_a_failing_answer_is_logged_with_the_rooms_own_name(caplog) -> None:
    """The command names FreeSWITCH's room (mpc-<uuid>); the line names the user's too."""
    import logging

    edge = GeventEdge(lambda: Inbound(), RecordingOutbox(), command_timeout_s=1)
    command = Command("conference mpc-u1 kick 3", "mpc#1", room="MPC Sales Desk")

    def broken(done: CommandDone) -> None:
        raise RuntimeError("a bug")

    with caplog.at_level(logging.ERROR, logger="plivoxml_fs"):
        edge.send(command, broken, None)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            gevent.sleep(0.01)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == "room engine failed on the answer to 'conference mpc-u1 kick 3' of MPC Sales Desk"
