"""Playback sources and their media lengths; the media clock."""

from __future__ import annotations

import wave

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from plivoxml_fs.simulator.media import MediaClock, MediaLibrary, Piece, file_ms, speak_ms


def _wav(path, seconds: float, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * int(rate * seconds))


@pytest.fixture
def library(tmp_path):
    return MediaLibrary(tmp_path / "media", tmp_path / "cache")


@pytest.mark.parametrize(
    ("source", "ms"),
    [
        ("silence_stream://2000", 2000),
        ("silence_stream://250,1400", 250),
        ("silence_stream://-1", None),
        ("tone_stream://%(300,0,440)", 300),
        ("tone_stream://%(100,100,440,480);loops=3", 600),
        ("tone_stream://%(100,100,440);loops=-1", None),
        ("local_stream://moh", None),
    ],
)
def test_stream_lengths(library, source, ms):
    """Streams last what their arguments say (None: until stopped)."""
    assert library.piece(source) == Piece(source, ms)


def test_wav_and_relative_paths(library, tmp_path):
    """A WAV's length comes from the file; relative paths are looked up in media_dir."""
    (tmp_path / "media").mkdir()
    _wav(tmp_path / "media" / "hello.wav", 1.5)
    _wav(tmp_path / "wide.wav", 0.25, rate=16000)
    assert library.piece("hello.wav") == Piece("hello.wav", 1500)
    assert library.piece(str(tmp_path / "wide.wav")).ms == 250
    assert library.piece("nothere.wav") == Piece("nothere.wav", 0, found=False)


def test_mp3_length_from_the_bit_rate(tmp_path):
    """An MP3's length is its size over the first frame's bit rate (128 kbps: 16000 B/s)."""
    path = tmp_path / "a.mp3"
    path.write_bytes(b"\xff\xfb\x90\x00" + b"\0" * 15996)
    assert file_ms(path) == 1000
    (tmp_path / "b.mp3").write_bytes(b"not audio at all")
    assert file_ms(tmp_path / "b.mp3") is None


def test_file_string_pieces(library, tmp_path):
    """file_string://a!b gives each piece in order."""
    _wav(tmp_path / "x.wav", 0.1)
    pieces = library.pieces(f"file_string://silence_stream://100!{tmp_path / 'x.wav'}!/no.wav")
    assert [(p.ms, p.found) for p in pieces] == [(100, True), (100, True), (0, False)]


def test_urls_are_fetched_once_into_the_cache(library, tmp_path):
    """http(s) and http_cache:// URLs: fetched once, length from the fetched WAV; 404: missing."""
    _wav(tmp_path / "served.wav", 0.75)
    payload = (tmp_path / "served.wav").read_bytes()
    hits = []

    def app(environ, start_response):
        hits.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] != "/a.wav":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no"]
        start_response("200 OK", [("Content-Type", "audio/wav")])
        return [payload]

    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert library.piece(f"{base}/a.wav").ms == 750
        assert library.piece(f"http_cache://{base}/a.wav").ms == 750
        assert library.piece(f"{base}/gone.wav").found is False
    finally:
        server.stop()
    assert hits == ["/a.wav", "/gone.wav"]


def test_speak_estimate():
    """Speech lasts 70 ms a character, at least 200 ms."""
    assert speak_ms("Hello there") == 770
    assert speak_ms("Hi") == 200


def test_clock_scales_media_time():
    """At time_scale 0.01 a media second takes 10 ms of wall time and media time runs ahead."""
    clock = MediaClock(0.01)
    assert clock.wall_s(1000) == pytest.approx(0.01)
    before = clock.now_us()
    gevent.sleep(0.02)
    assert clock.now_us() - before >= 2_000_000


@pytest.mark.parametrize("scale", [0, -1, 101, "1"])
def test_clock_rejects_bad_scales(scale):
    """A time_scale outside (0, 100] is refused, naming the value."""
    with pytest.raises(ValueError) as info:
        MediaClock(scale)
    assert str(info.value) == f"simulator time_scale: must be a number in (0, 100] (got {scale!r})"
