"""<MultiPartyCall> music documents: file sources grouped, each Speak a Speech (the room says
it with `say:`), in order (verbs/multipartycall.py _grouped over sounds.resolve_parts)."""

from __future__ import annotations

from plivoxml_fs.rooms.mpc_model import Speech
from plivoxml_fs.verbs.multipartycall import _grouped
from plivoxml_fs.verbs.sounds import resolve_parts
from plivoxml_fs.verbs.sounds import speech_part as _speech
from verbs.test_sounds import URL, Fetcher


def music(body):
    parts = resolve_parts(Fetcher(body), URL, "GET", {}, what="<MultiPartyCall> waitMusicUrl",
                          max_bytes=65536, speech=_speech)
    return _grouped(parts)


def test_speaks_split_the_file_sources_in_order():
    doc = (b'<Response><Play>http://a.example/x.wav</Play><Wait length="1"/>'
           b'<Speak voice="MAN" loop="2">Please   hold, we\'re busy!</Speak>'
           b'<Play>http://a.example/y.wav</Play></Response>')
    assert music(doc) == (
        "file_string://http_cache://http://a.example/x.wav!silence_stream://1000",
        Speech("Please hold, we're busy!", "kal"), Speech("Please hold, we're busy!", "kal"),
        "http_cache://http://a.example/y.wav")


def test_audio_and_plain_documents_are_one_file_source():
    assert music(None) == (f"http_cache://{URL}",)
    assert music(b'<Response><Wait length="2"/></Response>') == ("silence_stream://2000",)
