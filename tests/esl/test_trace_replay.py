"""An OutboundConnection driven through the whole recorded lifecycle of a real call.

A scripted FreeSWITCH plays back, byte for byte, what FreeSWITCH 1.10.12 sent on the first
outbound socket of tests/esl/fs-traces/lifecycle.txt, in answer to the same commands; only the
ids we choose ourselves (Event-UUID, Job-UUID) are swapped for the recorded ones.
"""

from __future__ import annotations

from collections import defaultdict, deque

import gevent
import gevent.event

from esl import traces
from esl.fakefs import FakeSide, dial
from plivoxml_fs.errors import ConnectionLost
from plivoxml_fs.esl.codec import CommandParser, MessageParser
from plivoxml_fs.esl.server import OutboundServer
from plivoxml_fs.fs import commands

CONN = "outbound-1"
CALL = "fb118d4e-457b-4ae3-ba78-63b3e536d86f"


def _arg(command) -> str:
    return command.get("execute-app-arg") or command.body.decode()


def _play_back(side: FakeSide) -> None:
    """Answer our commands with what FreeSWITCH sent, mapping recorded ids to ours."""
    ids: dict[bytes, bytes] = {}
    unnamed: dict[str, deque[str]] = defaultdict(deque)  # app -> our ids FreeSWITCH never saw
    for entry in traces.load("lifecycle.txt"):
        if entry.conn != CONN:
            continue
        if entry.sent_by_us:
            (recorded,) = CommandParser().feed(entry.data)
            ours = side.read()
            assert ours is not None, f"we hung up before {recorded.line!r}"
            _match(recorded, ours, ids, unnamed)
            continue
        data = entry.data
        (message,) = MessageParser().feed(data)
        if message.is_event:
            event = message.event()
            app_uuid = event.get("Application-UUID", "")
            queue = unnamed.get(event.get("Application", ""))
            if app_uuid and app_uuid.encode() not in ids and queue:
                ids[app_uuid.encode()] = queue.popleft().encode()
        for old, new in ids.items():
            data = data.replace(old, new)
        side.send(traces.relength(data))


def _match(recorded, ours, ids, unnamed) -> None:
    assert ours.line == recorded.line, (ours.line, recorded.line)
    for header in ("call-command", "execute-app-name", "hangup-cause"):
        assert ours.get(header) == recorded.get(header), header
    if recorded.get("call-command") == "execute":
        assert _arg(ours) == _arg(recorded)
        mine = ours.get("Event-UUID")
        if recorded.get("Event-UUID"):
            ids[recorded.get("Event-UUID").encode()] = mine.encode()
        else:
            unnamed[ours.get("execute-app-name")].append(mine)
    if recorded.get("Job-UUID"):
        ids[recorded.get("Job-UUID").encode()] = ours.get("Job-UUID").encode()


def _call(conn) -> dict:
    """What a call driver does on this call, as the recording shows it."""
    seen = {"uuid": conn.uuid, "events": []}
    sub = conn.subscribe()
    conn.command(commands.myevents())
    conn.command(commands.event_plain(["BACKGROUND_JOB"], ["conference::maintenance"]))
    conn.command(commands.linger(5))
    answer = conn.execute_async("answer")
    setvar = conn.execute_async("set", "hangup_after_conference=false")
    play = conn.execute_async("playback", "tone_stream://%(300,0,440)")
    seen["played"] = [e.wait(2)["Application-Response"] for e in (answer, setvar, play)]
    seen["job"] = conn.bgapi(f"uuid_getvar {conn.uuid} hangup_after_conference").body_text
    conf = conn.execute_async("conference", "roomL@default+flags{moderator|endconf}")
    seen["hung_up"] = conn.hangup.wait(5)
    seen["cause"] = conn.hangup_event["Hangup-Cause"]
    seen["conference"] = conf.wait(2)["Application-Response"]
    after = conn.execute_async("playback", "silence_stream://200")
    conn.command(*_sendmsg(commands.hangup()))
    try:
        after.wait(5)
    except ConnectionLost as exc:
        seen["after"] = str(exc)
    while (event := _next(sub)) is not None:
        seen["events"].append(event.get("Action") or event.name)
    seen["closed"] = conn.closed
    return seen


def _sendmsg(msg):
    return msg.line, msg.headers, msg.body


def _next(sub):
    try:
        return sub.get(timeout=1)
    except ConnectionLost:
        return None


def test_recorded_call_lifecycle_end_to_end():
    """Every command gets its recorded answer; waits resolve from the real events; the end is clean."""
    result = gevent.event.AsyncResult()
    server = OutboundServer(
        ("127.0.0.1", 0),
        lambda conn: result.set(_call(conn)),
        max_calls=1,
        command_timeout_s=2.0,
    )
    server.start()
    try:
        side = dial(server.address)
        player = gevent.spawn(_play_back, side)
        seen = result.get(timeout=10)
        player.get(timeout=2)
    finally:
        server.stop(timeout=1)
    assert seen["uuid"] == CALL
    assert seen["played"] == ["_none_", "_none_", "FILE PLAYED"]
    assert seen["job"] == "false"
    assert seen["hung_up"] and seen["cause"] == "NORMAL_CLEARING"
    assert seen["conference"] == "_none_"
    assert seen["after"] == f"call {CALL}: disconnect-notice (disconnect)"
    assert seen["closed"]
    assert seen["events"][:3] == ["CHANNEL_PARK", "CHANNEL_EXECUTE", "CHANNEL_ANSWER"]
    assert [
        e
        for e in seen["events"]
        if e in ("add-member", "floor-change", "CHANNEL_HANGUP", "del-member")
    ] == ["add-member", "floor-change", "CHANNEL_HANGUP", "del-member"]
    assert seen["events"][-1] == "CHANNEL_HANGUP_COMPLETE"
