"""Recovery of orphaned calls (journal rows an earlier daemon left) on the embedded FreeSWITCH:
a gone channel's hangup callback is posted at once, a live one's when it ends."""

from __future__ import annotations

from urllib.parse import parse_qsl

import gevent
import gevent.event
import pytest
from gevent.pywsgi import WSGIServer
from gevent.server import StreamServer
from waiting import until

from plivoxml_fs.config import Settings
from plivoxml_fs.effects.store import CallRow, OutboxStore
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch

WAIT_S = 5.0
HANGUP = "CHANNEL_HANGUP_COMPLETE"
STARTED = 1_764_000_000.0  # epoch seconds, 2025-11-24 16:00:00 UTC


def wait_for(predicate, what: str) -> None:
    until(what, predicate, WAIT_S)


@pytest.fixture
def receiver():
    hits: list[dict] = []

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        hits.append(dict(parse_qsl(environ["wsgi.input"].read(length).decode())))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    server = WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.stop(timeout=1)


@pytest.fixture
def dead_daemon():
    """A socket that takes calls and never speaks: the channels it holds stay up, as an
    orphan outliving its daemon would."""
    release = gevent.event.Event()
    server = StreamServer(("127.0.0.1", 0), lambda sock, addr: release.wait())
    server.start()
    yield server.address
    release.set()
    server.stop(timeout=1)


def journal(path, *uuids, url, last_alive):
    store = OutboxStore(str(path), exclusive=True)
    for uuid in uuids:
        channel = {"Unique-ID": uuid, "Caller-Caller-ID-Number": "1001",
                   "Caller-Destination-Number": "2000", "Call-Direction": "inbound",
                   "Caller-Channel-Created-Time": str(int(STARTED * 1e6))}
        store.call_started(CallRow(uuid, url, "POST", channel, int((STARTED + 2) * 1e6), STARTED))
    store.mark_alive(last_alive)
    store.close()


def test_gone_orphan_now_and_live_orphan_at_its_end(tmp_path, receiver, dead_daemon):
    """uuid_exists false: the callback comes at once (NORMAL_UNSPECIFIED, EndTime at the last
    heartbeat); true: nothing until its CHANNEL_HANGUP_COMPLETE, then FreeSWITCH's cause; each
    once, and the journal ends empty. CHANNEL_HANGUP_COMPLETE is subscribed on the inbound
    connection only while an orphan is watched."""
    base, hits = receiver
    fs = EmbeddedFreeSwitch(socket_address=dead_daemon, time_scale=0.05,
                            media_dir=str(tmp_path))
    fs.start()
    fs.originate("{origination_uuid=alive-1}loopback/2000/default")
    wait_for(lambda: "alive-1" in fs.channels, "the live channel")
    path = tmp_path / "outbox.sqlite3"
    journal(path, "gone-1", "alive-1", url=f"{base}/hangup", last_alive=STARTED + 65)
    daemon = Daemon(Settings(listen_port=0, metrics_port=0, state_dir=str(tmp_path),
                             command_timeout_s=2.0, reconnect_min_s=0.05, reconnect_max_s=0.1))
    try:
        daemon.start_server()
        daemon.start_inbound(*fs.inbound_address)
        wait_for(lambda: len(hits) == 1, "the gone orphan's callback")
        [gone] = hits
        assert (gone["CallUUID"], gone["HangupCause"], gone["HangupSource"]) == (
            "gone-1", "NORMAL_UNSPECIFIED", "Daemon Restart")
        # nobody can say how it ended: Plivo's 0 Unknown, not 4000 Normal Hangup
        assert (gone["HangupCauseCode"], gone["HangupCauseName"]) == ("0", "Unknown")
        assert (gone["StartTime"], gone["AnswerTime"], gone["EndTime"]) == (
            "2025-11-24 16:00:00", "2025-11-24 16:00:02", "2025-11-24 16:01:05")
        assert (gone["Duration"], gone["BillDuration"]) == ("65", "63")
        assert daemon.recovery.watched == ["alive-1"]
        assert [HANGUP in names for names in fs.inbound_subscriptions] == [True]
        assert fs.api("uuid_kill alive-1 USER_BUSY").startswith("+OK")
        wait_for(lambda: len(hits) == 2, "the live orphan's callback at its end")
        alive = hits[1]
        assert (alive["CallUUID"], alive["HangupCause"], alive["HangupSource"]) == (
            "alive-1", "USER_BUSY", "Daemon Restart")
        # FreeSWITCH said how it ended: its cause gives the code
        assert (alive["HangupCauseCode"], alive["HangupCauseName"]) == ("3010", "Busy Line")
        assert daemon.outbox.flush(WAIT_S)
        assert daemon.outbox.store.calls() == []
        assert daemon.recovery.watched == []
        wait_for(lambda: [HANGUP in n for n in fs.inbound_subscriptions] == [False],
                 "CHANNEL_HANGUP_COMPLETE nixed once no orphan is left")
    finally:
        daemon.stop(drain_timeout_s=1)
        fs.stop()
    assert [h["CallUUID"] for h in hits] == ["gone-1", "alive-1"]


def test_without_orphans_no_channel_hangup_is_asked_for(tmp_path):
    """A daemon with nothing to recover, or whose orphans were all gone at once, subscribes
    no CHANNEL_HANGUP_COMPLETE: FreeSWITCH would send one for every channel on the box."""
    fs = EmbeddedFreeSwitch(time_scale=0.05, media_dir=str(tmp_path))
    fs.start()
    path = tmp_path / "outbox.sqlite3"
    journal(path, "gone-2", url="http://127.0.0.1:9/hangup", last_alive=STARTED + 5)
    daemon = Daemon(Settings(listen_port=0, metrics_port=0, state_dir=str(tmp_path),
                             command_timeout_s=2.0, reconnect_min_s=0.05, reconnect_max_s=0.1))
    try:
        daemon.start_server()
        daemon.start_inbound(*fs.inbound_address)
        wait_for(lambda: daemon.outbox.store.calls() == [], "the gone orphan's callback stored")
        wait_for(lambda: [HANGUP in n for n in fs.inbound_subscriptions] == [False],
                 "no CHANNEL_HANGUP_COMPLETE")
        assert [("BACKGROUND_JOB" in n, "CUSTOM" in n) for n in fs.inbound_subscriptions] == [
            (True, True)]
        assert daemon.inbound.wanted == []
    finally:
        daemon.stop(drain_timeout_s=1)
        fs.stop()
