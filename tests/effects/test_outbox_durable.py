"""The durable outbox: rows in SQLite, delivery ids, dead rows, restarts, and bad receivers/files."""

from __future__ import annotations

import logging
import socket
import sqlite3
from urllib.parse import parse_qsl

import attrs
import gevent
import pytest
from gevent.server import StreamServer
from plivo.utils.signature_v3 import validate_v3_signature
from serving import served
from waiting import until

from plivoxml_fs.effects import outbox as outbox_module
from plivoxml_fs.effects import outbox_delivery
from plivoxml_fs.effects.outbox import Outbox
from plivoxml_fs.effects.store import DEAD, PENDING, OutboxStore
from plivoxml_fs.effects.webhook import Webhook


@attrs.define
class Receiver:
    """Records each request with its headers; `statuses` scripts replies per path."""

    hits: list = attrs.field(factory=list)
    statuses: dict = attrs.field(factory=dict)
    base: str = ""

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        path = environ["PATH_INFO"]
        self.hits.append({
            "method": environ["REQUEST_METHOD"],
            "path": path,
            "query": dict(parse_qsl(environ.get("QUERY_STRING", ""))),
            "form": dict(parse_qsl(body.decode())),
            "headers": headers,
        })
        if path == "/big":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"x" * 300_000]
        if path == "/loop":
            start_response("302 Found", [("Location", self.base + "/loop")])
            return [b""]
        scripted = self.statuses.get(path)
        status = scripted.pop(0) if scripted else 200
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def receiver():
    app = Receiver()
    with served(app):
        yield app


def raw_server(handle):
    server = StreamServer(("127.0.0.1", 0), handle)
    server.start()
    return server


def make_outbox(tmp_path, **kw):
    values = dict(pool_size=4, connect_timeout_s=0.5, read_timeout_s=0.5,
                  backoff_s=(0.01, 0.01), path=str(tmp_path / "outbox.sqlite3"))
    values.update(kw)
    return Outbox(**values)


def hook(url, call="call-1", n=0, method="POST", kind="hangup"):
    return Webhook(url, method, {"CallUUID": call, "N": str(n)}, call, kind)


def test_emit_writes_the_row_before_returning(tmp_path):
    """After emit returns, another connection sees the webhook as a pending row."""
    box = make_outbox(tmp_path)
    try:
        box.emit(hook("http://127.0.0.1:9/cb", n=7))
        rows = OutboxStore(str(tmp_path / "outbox.sqlite3")).rows()
        assert [(r.state, r.call_uuid, r.kind, r.params) for r in rows] == [
            (PENDING, "call-1", "hangup", {"CallUUID": "call-1", "N": "7"})
        ]
    finally:
        box.stop(timeout=0)


def test_outbox_files_are_private(tmp_path):
    """The outbox file and its WAL are created readable by the owner only (they hold numbers)."""
    box = make_outbox(tmp_path)
    box.emit(hook("http://127.0.0.1:9/cb"))
    box.stop()
    for name in ("outbox.sqlite3", "outbox.sqlite3-wal"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_delivered_rows_are_deleted_and_carry_a_delivery_id(tmp_path, receiver):
    """Each request has its own delivery id header; delivered rows leave the file."""
    box = make_outbox(tmp_path)
    for n in range(3):
        box.emit(hook(receiver.base + "/cb", n=n))
    assert box.flush(2.0)
    box.stop()
    ids = [h["headers"]["X-Plivoxml-Delivery-Id"] for h in receiver.hits]
    assert len(set(ids)) == 3
    assert ids == [d.delivery_id for d in box.recent]
    assert box.store.rows() == []


def test_delivery_id_is_stable_across_retries(tmp_path, receiver):
    """Retries of one webhook send the same delivery id."""
    receiver.statuses["/flaky"] = [503, 429, 200]
    box = make_outbox(tmp_path, backoff_s=(0.01, 0.01, 0.01))
    box.emit(hook(receiver.base + "/flaky"))
    assert box.flush(2.0)
    box.stop()
    assert len({h["headers"]["X-Plivoxml-Delivery-Id"] for h in receiver.hits}) == 1
    assert len(receiver.hits) == 3


def test_500_forever_ends_dead_with_error_and_attempts(tmp_path, receiver, caplog):
    """A receiver answering 500 forever: retry limit, one ERROR line, row kept dead."""
    receiver.statuses["/down"] = [500] * 10
    box = make_outbox(tmp_path, backoff_s=(0.01, 0.01, 0.01))
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        box.emit(hook(receiver.base + "/down"))
        assert box.flush(2.0)
    box.stop()
    assert [r.getMessage() for r in caplog.records] == [
        f"hangup callback for call call-1 to {receiver.base}/down failed after 4 attempt(s): "
        "HTTP 500"
    ]
    assert [(r.state, r.attempts, r.last_error) for r in box.store.rows()] == [
        (DEAD, 4, "HTTP 500")
    ]


def test_attempts_count_on_across_a_restart(tmp_path, receiver):
    """Failed attempts are stored: after a restart the retry limit counts them."""
    receiver.statuses["/down"] = [500] * 10
    first = make_outbox(tmp_path, backoff_s=(30.0,))
    first.emit(hook(receiver.base + "/down"))
    until("the first attempt stored", lambda: first.store.rows()[0].attempts == 1)
    assert not first.stop(timeout=0)  # waiting 15..30 s before its retry
    second = make_outbox(tmp_path, backoff_s=(0.01,))
    second.start()
    assert second.flush(2.0)
    second.stop()
    assert len(receiver.hits) == 2
    assert [(r.state, r.attempts, r.last_error) for r in second.store.rows()] == [
        (DEAD, 2, "HTTP 500")
    ]


def test_retry_delays_are_jittered_within_half_to_full(tmp_path, receiver, monkeypatch):
    """Each back-off delay d is drawn from [d/2, d]."""
    drawn = []

    class Draw:
        @staticmethod
        def uniform(low, high):
            drawn.append((low, high))
            return low

    monkeypatch.setattr(outbox_delivery, "random", Draw)
    receiver.statuses["/flaky"] = [500, 500, 500]
    box = make_outbox(tmp_path, backoff_s=(0.02, 0.04, 0.08))
    box.emit(hook(receiver.base + "/flaky"))
    assert box.flush(2.0)
    box.stop()
    assert drawn == [(0.01, 0.02), (0.02, 0.04), (0.04, 0.08)]
    assert [(d.delivered, d.attempts) for d in box.recent] == [(True, 4)]


def test_a_big_reply_body_does_not_stop_deliveries(tmp_path, receiver):
    """A 300 kB reply is not read to its end (the connection is dropped); later ones go on."""
    box = make_outbox(tmp_path, pool_size=1)
    for n in range(3):
        box.emit(hook(receiver.base + ("/big" if n == 0 else "/cb"), n=n))
    assert box.flush(2.0)
    box.stop()
    assert [(d.delivered, d.webhook.params["N"]) for d in box.recent] == [
        (True, "0"), (True, "1"), (True, "2")
    ]
    assert [h["path"] for h in receiver.hits] == ["/big", "/cb", "/cb"]


def test_redirect_loop_is_not_followed(tmp_path, receiver):
    """A 302 loop costs one request; the row is dead with a cause that says why."""
    box = make_outbox(tmp_path)
    box.emit(hook(receiver.base + "/loop"))
    assert box.flush(2.0)
    box.stop()
    assert len(receiver.hits) == 1
    assert [(r.state, r.attempts, r.last_error) for r in box.store.rows()] == [
        (DEAD, 1, "HTTP 302 (redirects are not followed for callbacks)")
    ]


def test_hanging_receiver_times_out_and_is_retried(tmp_path):
    """A receiver that accepts and never answers: each attempt ends at the timeout."""
    held = []
    server = raw_server(lambda sock, addr: (held.append(sock), gevent.sleep(5)))
    box = make_outbox(tmp_path, read_timeout_s=5.0, total_timeout_s=0.2, backoff_s=(0.01,))
    try:
        box.emit(hook(f"http://127.0.0.1:{server.server_port}/cb"))
        assert box.flush(3.0)
    finally:
        box.stop()
        server.stop(timeout=0)
    assert [(d.delivered, d.attempts, d.cause) for d in box.recent] == [
        (False, 2, "timed out after 0.2 s in total")
    ]
    assert len(held) == 2


def test_connection_reset_is_retried_then_dead(tmp_path):
    """A receiver that resets every connection: retried, then dead naming the reset."""

    def reset(sock, addr):
        sock.recv(1024)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()

    server = raw_server(reset)
    box = make_outbox(tmp_path, backoff_s=(0.01,))
    try:
        box.emit(hook(f"http://127.0.0.1:{server.server_port}/cb"))
        assert box.flush(3.0)
    finally:
        box.stop()
        server.stop(timeout=0)
    rows = box.store.rows()
    assert [(r.state, r.attempts) for r in rows] == [(DEAD, 2)]
    assert rows[0].last_error.startswith("connection failed")


def test_restart_delivers_pending_rows_in_order_with_the_same_ids(tmp_path, receiver):
    """Rows left by a stopped outbox are delivered by the next one, per call in order."""
    first = make_outbox(tmp_path)
    first.stop(timeout=0)  # stopped before starting: everything emitted stays pending
    for n in range(4):
        first.emit(hook(receiver.base + "/cb", call=f"c{n % 2}", n=n))
    stored = {r.delivery_id for r in first.store.rows(PENDING)}
    second = make_outbox(tmp_path)
    second.start()
    assert second.pending == 4
    assert second.flush(2.0)
    second.stop()
    for call in ("c0", "c1"):
        assert [h["form"]["N"] for h in receiver.hits if h["form"]["CallUUID"] == call] == (
            ["0", "2"] if call == "c0" else ["1", "3"]
        )
    assert {h["headers"]["X-Plivoxml-Delivery-Id"] for h in receiver.hits} == stored
    assert second.store.rows() == []


def test_full_disk_keeps_the_webhook_in_memory_and_delivers(tmp_path, receiver, caplog):
    """When the outbox file cannot grow, emit logs one ERROR line for the outage and still
    delivers; the first write that works again says how many were kept in memory only."""
    box = make_outbox(tmp_path)
    conn = box.store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    blob = "x" * 100_000
    with caplog.at_level(logging.WARNING, logger="plivoxml_fs.outbox"):
        for call in ("call-9", "call-8"):
            params = {"CallUUID": call, "Blob": blob}
            box.emit(Webhook(receiver.base + "/cb", "POST", params, call, "hangup"))
        assert box.flush(2.0)
        conn.execute("PRAGMA max_page_count=1073741823")
        box.emit(hook(receiver.base + "/cb", call="call-7"))
        assert box.flush(2.0)
    box.stop()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", f"hangup callback for call call-9 cannot be written to outbox {box.store.path} "
         "(database or disk is full): kept in memory and delivered, but lost if the daemon "
         "stops first (so are the next ones until the outbox can be written again)"),
        ("WARNING", f"outbox {box.store.path} can be written again; 2 callback(s) were kept in "
         "memory only"),
    ]
    # two calls: the outbox promises each call's order, not an order across calls
    assert sorted(h["form"]["CallUUID"] for h in receiver.hits if "Blob" in h["form"]) == [
        "call-8", "call-9"
    ]
    assert len(receiver.hits) == 3
    assert box.store.rows() == []


def test_failed_delete_is_retried_with_one_error_line(tmp_path, receiver, caplog):
    """Delivered rows that cannot be deleted stay queued for the next batch; one ERROR line."""
    box = make_outbox(tmp_path)
    real_delete = box.store.delete
    failures = []

    def delete(ids):
        if len(failures) < 3:
            failures.append(list(ids))
            raise sqlite3.OperationalError("disk I/O error")
        real_delete(ids)

    box.store.delete = delete
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        box.emit(hook(receiver.base + "/cb"))
        assert box.flush(2.0)  # first failure
        box.emit(hook(receiver.base + "/cb", n=1))
        assert box.flush(2.0)
        # the batch deleter fails once more, then succeeds
        until("the delivered rows deleted", lambda: len(failures) == 3 and not box.store.rows())
    box.stop()
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox {box.store.path}: delivered callbacks cannot be marked delivered (disk I/O "
        "error): they are sent again if the daemon restarts before this succeeds"
    ]
    assert failures[0] == [1] and failures[-1] == [1, 2]
    assert OutboxStore(box.store.path).rows() == []


def test_unopenable_outbox_falls_back_to_memory(tmp_path, receiver, caplog):
    """An outbox path under a regular file: one ERROR line at open; webhooks still delivered."""
    (tmp_path / "plain").write_text("")
    path = str(tmp_path / "plain" / "outbox.sqlite3")
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        box = make_outbox(tmp_path, path=path)
        box.emit(hook(receiver.base + "/cb"))
        assert box.flush(2.0)
        box.stop()
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"outbox {path} cannot be opened ([Errno 17] File exists")
    assert message.endswith(
        "callbacks are kept in memory only and are lost if the daemon stops before delivering "
        "them; trying again every 5.0 s"
    )
    assert len(receiver.hits) == 1


def test_corrupt_outbox_is_set_aside(tmp_path, receiver, caplog):
    """A file that is not SQLite is renamed to .corrupt-<time>, one ERROR line, fresh outbox."""
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"this is not a database\n" * 200)
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
        box = make_outbox(tmp_path)
    aside = [p.name for p in tmp_path.iterdir() if p.name.startswith("outbox.sqlite3.corrupt-")]
    assert len(aside) == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox {path} is not a usable SQLite outbox (file is not a database): moved to "
        f"{tmp_path / aside[0]}, starting empty"
    ]
    assert (tmp_path / aside[0]).read_bytes().startswith(b"this is not a database")
    assert path.stat().st_mode & 0o777 == 0o600
    box.emit(hook(receiver.base + "/cb"))
    assert box.flush(2.0)
    box.stop()
    assert len(receiver.hits) == 1


def test_wrong_table_is_set_aside(tmp_path):
    """A SQLite file whose webhooks table has other columns is set aside too."""
    path = tmp_path / "outbox.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE webhooks (id INTEGER PRIMARY KEY, other TEXT)")
    conn.commit()
    conn.close()
    store = OutboxStore(str(path))
    assert store.rows() == []
    assert any(p.name.startswith("outbox.sqlite3.corrupt-") for p in tmp_path.iterdir())


def test_retry_and_purge_dead_rows(tmp_path, receiver):
    """retry makes dead rows pending with no attempts (as new rows, same delivery id); purge
    deletes dead rows only."""
    receiver.statuses["/gone"] = [404, 404]
    box = make_outbox(tmp_path)
    box.emit(hook(receiver.base + "/gone", call="a"))
    box.emit(hook(receiver.base + "/gone", call="b"))
    assert box.flush(2.0)
    box.stop()
    store = box.store
    dead = store.rows(DEAD)
    assert store.retry([dead[0].id]) == 1
    assert [(r.call_uuid, r.state, r.attempts) for r in store.rows()] == [
        ("b", DEAD, 1), ("a", PENDING, 0)
    ]
    assert store.rows(PENDING)[0].delivery_id == dead[0].delivery_id
    assert store.purge() == 1
    assert [r.call_uuid for r in store.rows()] == ["a"]


def test_running_outbox_picks_up_retried_rows(tmp_path, receiver, monkeypatch):
    """A dead row made pending by another connection (the CLI) is delivered without a restart."""
    monkeypatch.setattr(outbox_module, "ADOPT_S", 0.05)
    receiver.statuses["/later"] = [404]
    box = make_outbox(tmp_path)
    box.emit(hook(receiver.base + "/later"))
    assert box.flush(2.0)
    [dead] = box.store.rows(DEAD)
    assert OutboxStore(box.store.path).retry() == 1
    until("the retried row delivered", lambda: len(receiver.hits) == 2)
    assert box.flush(2.0)
    box.stop()
    assert [h["headers"]["X-Plivoxml-Delivery-Id"] for h in receiver.hits] == [dead.delivery_id] * 2
    assert box.store.rows() == []


def test_second_process_on_the_same_file_keeps_to_memory(tmp_path, caplog):
    """While one outbox delivers from a file, another one on it logs one ERROR, uses memory."""
    first = make_outbox(tmp_path)
    first.start()
    try:
        with caplog.at_level(logging.ERROR, logger="plivoxml_fs.outbox"):
            second = make_outbox(tmp_path)
        second.stop()
    finally:
        first.stop()
    path = tmp_path / "outbox.sqlite3"
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox {path} cannot be opened (another process is delivering from it: {path}.lock is "
        "locked): callbacks are kept in memory only and are lost if the daemon stops before "
        "delivering them; trying again every 5.0 s"
    ]
    assert second.store.path == ":memory:"
    third = make_outbox(tmp_path)  # the first one's stop released the file
    third.stop()
    assert third.store.path == str(path)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signed_requests_pass_the_plivo_sdk_check(tmp_path, receiver, method):
    """With an auth token, the SDK's validate_v3_signature accepts what the receiver got."""
    token = "MjE0ZmE5NWQtOTk4Ny00Yz"
    box = make_outbox(tmp_path, auth_token=token)
    url = receiver.base + "/cb?app=x&tag=b"
    box.emit(Webhook(url, method, {"CallUUID": "c", "To": "+1 555", "Z": "é&="}, "c", "hangup"))
    assert box.flush(2.0)
    box.stop()
    hit = receiver.hits[0]
    sig = hit["headers"]["X-Plivo-Signature-V3"]
    nonce = hit["headers"]["X-Plivo-Signature-V3-Nonce"]
    # As a web app checks: POST with the URL and the form; GET with the bare URL and the query.
    params = hit["form"] if method == "POST" else hit["query"]
    full = url if method == "POST" else receiver.base + "/cb"
    assert validate_v3_signature(method, full, nonce, token, sig, params=params)
    assert not validate_v3_signature(method, full, nonce, token + "x", sig, params=params)
