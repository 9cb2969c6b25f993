"""A service that refuses, never answers, closes or sends garbage: the stream says `failed`
(status callback with the reason), ends only itself, and other streams go on."""

from __future__ import annotations

import base64
import socket

import gevent
import gevent.server
from waiting import until

from aiagent.stream_cases import Service
from plivoxml_fs.effects import aistream
from plivoxml_fs.effects.aistream import AiStream, StreamSpec


def _stream(url: str, callbacks: list) -> AiStream:
    spec = StreamSpec(url, status_callback_url="http://127.0.0.1:9/status", call_id="call-1")
    return AiStream(spec, fs_address=("127.0.0.1", 9), emit=callbacks.append)


def _failed(stream: AiStream, callbacks: list) -> dict:
    until("the stream failed", stream.ended.is_set)
    assert [c.params["Status"] for c in callbacks][-1] == "failed"
    return callbacks[-1].params


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_refused_connection_fails_with_the_reason():
    callbacks: list = []
    stream = _stream(f"ws://127.0.0.1:{_closed_port()}/ai", callbacks)
    stream.start()
    params = _failed(stream, callbacks)
    assert params["Reason"].startswith("cannot connect"), params
    assert params["Event"] == "StreamFailed" and params["StreamId"] == stream.stream_id


def test_a_service_that_never_answers_fails_at_the_deadline_and_blocks_nobody(monkeypatch):
    monkeypatch.setattr(aistream, "CONNECT_TIMEOUT_S", 0.5)
    held = []
    server = gevent.server.StreamServer(("127.0.0.1", 0), lambda sock, addr: held.append(sock)
                                        or gevent.sleep(30))
    server.start()
    service = Service()
    try:
        silent: list = []
        stuck = _stream(f"ws://127.0.0.1:{server.server_port}/ai", silent)
        stuck.start()
        good: list = []
        other = _stream(f"ws://127.0.0.1:{service.port}/ai", good)
        other.start()
        until("the other stream started", lambda: service.of("start"))
        assert not stuck.ended.is_set()  # still waiting, and the other call went on
        params = _failed(stuck, silent)
        assert "no upgrade within 0.5 s" in params["Reason"], params
        other.stop()
        assert [c.params["Status"] for c in good] == ["started", "stopped"]
    finally:
        server.stop(timeout=0)
        service.stop()


def test_a_service_that_closes_fails_with_duration():
    service = Service()
    try:
        callbacks: list = []
        stream = _stream(f"ws://127.0.0.1:{service.port}/ai", callbacks)
        stream.start()
        until("start", lambda: service.of("start"))
        service.send(do="close")
        params = _failed(stream, callbacks)
        assert params["Reason"] == "service closed the stream (1000)", params
        assert params["Duration"] == "0"
    finally:
        service.stop()


def test_garbage_after_the_upgrade_fails_the_stream():
    def serve(sock, addr):
        request = b""
        while b"\r\n\r\n" not in request:
            request += sock.recv(4096)
        key = [line.split(b": ", 1)[1] for line in request.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key")][0]
        import hashlib
        accept = base64.b64encode(hashlib.sha1(
            key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        sock.sendall(b"\xff\xff\xff\xff garbage")
        gevent.sleep(5)

    server = gevent.server.StreamServer(("127.0.0.1", 0), serve)
    server.start()
    try:
        callbacks: list = []
        stream = _stream(f"ws://127.0.0.1:{server.server_port}/ai", callbacks)
        stream.start()
        params = _failed(stream, callbacks)
        assert params["Reason"].startswith("service sent garbage"), params
        assert [c.params["Status"] for c in callbacks] == ["started", "failed"]
    finally:
        server.stop(timeout=0)


def test_unknown_messages_are_one_warning_and_the_stream_goes_on(caplog):
    service = Service()
    try:
        callbacks: list = []
        stream = _stream(f"ws://127.0.0.1:{service.port}/ai", callbacks)
        stream.start()
        until("start", lambda: service.of("start"))
        for _ in range(3):
            service.send(do="json", value={"event": "bogus"})
        service.send(do="text", value="not json")
        service.send(do="clear")  # answered at once (a checkpoint waits for FreeSWITCH's frames)
        until("clearedAudio after the noise", lambda: service.of("clearedAudio"))
        warnings = [r.getMessage() for r in caplog.records if r.name == "plivoxml_fs.aistream"
                    and r.levelname == "WARNING"]
        assert warnings == [f"AI stream {stream.stream_id}: ignored unknown event 'bogus'",
                            f"AI stream {stream.stream_id}: ignored not JSON"], warnings
        assert not stream.ended.is_set()
        stream.stop()
    finally:
        service.stop()


def test_a_service_ping_is_answered_with_its_pong_and_the_stream_goes_on():
    """The service's keepalive (a Ping, as the websockets library sends every 20 s) gets its
    Pong with the same payload; the stream stays started."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Ping, Pong, Request

    pongs: list[bytes] = []

    def serve(sock, addr):
        ws = WSConnection(ConnectionType.SERVER)
        while True:
            ws.receive_data(sock.recv(65536))
            if any(isinstance(e, Request) for e in ws.events()):
                break
        sock.sendall(ws.send(AcceptConnection()))
        sock.sendall(ws.send(Ping(payload=b"keepalive-1")))
        while not pongs:
            data = sock.recv(65536)
            if not data:
                return
            ws.receive_data(data)
            pongs.extend(e.payload for e in ws.events() if isinstance(e, Pong))
        gevent.sleep(5)

    server = gevent.server.StreamServer(("127.0.0.1", 0), serve)
    server.start()
    try:
        callbacks: list = []
        stream = _stream(f"ws://127.0.0.1:{server.server_port}/ai", callbacks)
        stream.start()
        until("the pong", lambda: pongs)
        assert pongs == [b"keepalive-1"]
        assert not stream.ended.is_set()
        assert [c.params["Status"] for c in callbacks] == ["started"]
        stream.stop()
    finally:
        server.stop(timeout=0)
