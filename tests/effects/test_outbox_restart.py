"""A daemon process killed hard (SIGKILL) with callbacks pending loses none of them: with the
receiver down, and in the middle of a burst to a receiver that is up (every callback whose
`emit` had returned is delivered, a repeat only with its delivery id)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections import Counter
from urllib.parse import parse_qsl

from gevent.pywsgi import WSGIServer

CHILD = """
from gevent import monkey; monkey.patch_all()
import sys, gevent
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.webhook import Webhook
path, url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
BURST = 400
box = Outbox(pool_size=8, connect_timeout_s=0.5, read_timeout_s=1.0, backoff_s=(0.05,) * 50,
             path=path)
box.start()
if mode == "burst":
    for n in range(BURST):
        call = f"call-{n % 6}"
        box.emit(Webhook(url, "POST", {"CallUUID": call, "N": str(n)}, call, "conference"))
        print(n, flush=True)
        gevent.sleep(0)
    gevent.sleep(60)
elif mode == "emit":
    for n in range(60):
        call = f"call-{n % 6}"
        box.emit(Webhook(url, "POST", {"CallUUID": call, "N": str(n)}, call, "hangup"))
    print("emitted", box.pending, flush=True)
    gevent.sleep(60)
else:
    print("drained", box.flush(8.0), box.store.count("pending"), flush=True)
    box.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(path, url, mode):
    return subprocess.Popen([sys.executable, "-c", CHILD, path, url, mode],
                            stdout=subprocess.PIPE, text=True)


def test_sigkill_with_pending_callbacks_then_restart_delivers_each_once_in_order(tmp_path):
    """60 callbacks of 6 calls to a receiver that is down; SIGKILL; a second process with the
    receiver up delivers every one exactly once, each call's in emit order."""
    path = str(tmp_path / "outbox.sqlite3")
    port = free_port()
    url = f"http://127.0.0.1:{port}/cb"
    first = child(path, url, "emit")
    try:
        assert first.stdout.readline().split() == ["emitted", "60"]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    assert first.returncode == -signal.SIGKILL

    hits = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        hits.append((environ["HTTP_X_PLIVOXML_DELIVERY_ID"], dict(parse_qsl(body.decode()))))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    server = WSGIServer(("127.0.0.1", port), app, log=None, error_log=None)
    server.start()
    try:
        second = child(path, url, "deliver")
        out, _ = second.communicate(timeout=15)
    finally:
        server.stop(timeout=1)
    assert out.split() == ["drained", "True", "0"]
    assert second.returncode == 0
    counts = Counter(delivery_id for delivery_id, _ in hits)
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert sorted(int(form["N"]) for _, form in hits) == list(range(60))
    for call in range(6):
        got = [int(form["N"]) for _, form in hits if form["CallUUID"] == f"call-{call}"]
        assert got == list(range(call, 60, 6))


def test_sigkill_in_the_middle_of_a_burst_loses_no_emitted_callback(tmp_path):
    """A child emits 400 callbacks of 6 calls to a live receiver, saying each emit that
    returned; it is killed once 150 have returned and some were delivered. A second process
    delivers the rest: every callback that was emitted reaches the receiver, a callback sent
    twice carries the same delivery id both times, and each call's first receipts are in
    emit order."""
    path = str(tmp_path / "outbox.sqlite3")
    hits = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        hits.append((environ["HTTP_X_PLIVOXML_DELIVERY_ID"], dict(parse_qsl(body.decode()))))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    url = f"http://127.0.0.1:{server.server_port}/cb"
    try:
        first = child(path, url, "burst")
        emitted = []
        try:
            while len(emitted) < 150 or not hits:
                line = first.stdout.readline()
                assert line, "the child stopped before the kill"
                emitted.append(int(line))
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(5)
        assert first.returncode == -signal.SIGKILL
        delivered_before = len(hits)
        second = child(path, url, "deliver")
        out, _ = second.communicate(timeout=30)
    finally:
        server.stop(timeout=1)
    assert out.split() == ["drained", "True", "0"]
    assert 0 < delivered_before < len(hits)
    received = {int(form["N"]) for _, form in hits}
    assert set(emitted) <= received
    ids_of: dict[int, set] = {}
    for delivery_id, form in hits:
        ids_of.setdefault(int(form["N"]), set()).add(delivery_id)
    assert all(len(ids) == 1 for ids in ids_of.values())
    for call in range(6):
        firsts = list(dict.fromkeys(int(f["N"]) for _, f in hits if f["CallUUID"] == f"call-{call}"))
        assert firsts == sorted(firsts)
