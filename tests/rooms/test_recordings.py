"""Recording names, places and URLs, and serving them on the operator HTTP server."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from plivoxml_fs.api.http import OperatorServer
from plivoxml_fs.config import Settings
from plivoxml_fs.rooms import recordings

CONF = "5d1c2e44-8a0b-4c57-9b1e-3f2a1d0c9e77"
REC = "0b9e4f6a-1c2d-4e5f-8a9b-7c6d5e4f3a2b"


def test_names_are_derived_from_the_ids() -> None:
    """`<conference uuid>_<recording id>.<fmt>`, for mp3 and wav only."""
    assert recordings.recording_name(CONF, REC, "mp3") == f"{CONF}_{REC}.mp3"
    with pytest.raises(ValueError, match="is not <uuid>_<id>.mp3|wav"):
        recordings.recording_name(CONF, REC, "ogg")
    with pytest.raises(ValueError):
        recordings.recording_name("../etc", REC, "wav")


def test_where_and_under_which_url() -> None:
    """recordings_dir defaults under state_dir; RecordUrl uses record_base_url, else the
    operator server."""
    s = Settings(state_dir="/var/lib/x", metrics_host="10.0.0.5", metrics_port=9000)
    assert str(recordings.recordings_dir(s)) == "/var/lib/x/recordings"
    assert recordings.record_url(s, "a_b.mp3") == "http://10.0.0.5:9000/recordings/a_b.mp3"
    s2 = Settings(recordings_dir="/srv/rec", record_base_url="https://cdn.example.com/rec/")
    assert str(recordings.recordings_dir(s2)) == "/srv/rec"
    assert recordings.record_url(s2, "a_b.mp3") == "https://cdn.example.com/rec/a_b.mp3"


@pytest.fixture
def served(tmp_path):
    server = OperatorServer(("127.0.0.1", 0), lambda: True, tmp_path)
    server.start()
    host, port = server.address
    yield tmp_path, f"http://{host}:{port}"
    server.stop()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_a_recording_is_served_with_its_type(served) -> None:
    """GET /recordings/<name> streams the file as audio/wav or audio/mpeg."""
    root, base = served
    name = recordings.recording_name(CONF, REC, "wav")
    (root / name).write_bytes(b"RIFF" + bytes(70_000))
    assert _get(f"{base}/recordings/{name}") == (200, "audio/wav", b"RIFF" + bytes(70_000))
    mp3 = recordings.recording_name(CONF, REC, "mp3")
    (root / mp3).write_bytes(b"ID3")
    assert _get(f"{base}/recordings/{mp3}")[:2] == (200, "audio/mpeg")


@pytest.mark.parametrize("name", ["missing_x.wav", "..%2Fsecret", "../secret", "notes.txt",
                                  f"{CONF}_{REC}.wav/../../x"])
def test_other_names_are_not_found(served, name) -> None:
    """Unknown files and anything that is not a derived name: 404, nothing else is opened."""
    root, base = served
    (root.parent / "secret").write_text("no")
    (root / "notes.txt").write_text("no")
    assert _get(f"{base}/recordings/{name}")[0] == 404


def test_no_record_url_without_a_server_to_serve_it() -> None:
    """metrics_port 0 and no record_base_url: record_url refuses rather than name port 0."""
    s = Settings(metrics_port=0)
    with pytest.raises(ValueError) as caught:
        recordings.record_url(s, "a_b.wav")
    assert str(caught.value) == ("no URL to serve it at: metrics_port is 0 (no operator HTTP "
                                 "server) and record_base_url is not set")
    s2 = Settings(metrics_port=0, record_base_url="https://cdn.example.com/rec")
    assert recordings.record_url(s2, "a_b.wav") == "https://cdn.example.com/rec/a_b.wav"
