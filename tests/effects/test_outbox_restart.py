"""A daemon process killed hard (SIGKILL) with callbacks pending loses none of them."""

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
box = Outbox(pool_size=8, connect_timeout_s=0.5, read_timeout_s=1.0, backoff_s=(0.05,) * 50,
             path=path)
box.start()
if mode == "emit":
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
