"""resolve_parts: a sound URL's audio or Play/Speak/Wait document as its parts (file sources,
Speech); rooms/room_sounds.py: what a room sets for them (FreeSWITCH 1.10.12 has no tts://)."""

from __future__ import annotations

import pytest

from plivoxml_fs.errors import FetchError, SoundError
from plivoxml_fs.rooms.mpc_model import Speech
from plivoxml_fs.rooms.room_sounds import RoomSound, music_sound, spoken_sound
from plivoxml_fs.verbs.sounds import resolve_parts

URL = "http://app.example/hold?token=s3cret"


class Fetcher:
    """Answers fetch_sound with a scripted (body, final URL), or raises; records the calls."""

    def __init__(self, body: bytes | None = None, error: Exception | None = None) -> None:
        self.body, self.error, self.calls = body, error, []

    def fetch_sound(self, url, method, params):
        self.calls.append((url, method, dict(params)))
        if self.error is not None:
            raise self.error
        return self.body, url


def resolve(fetcher: Fetcher, url: str = URL) -> list:
    return resolve_parts(fetcher, url, "GET", {"CallUUID": "u1"}, what="<Conference> waitSound",
                         max_bytes=65536)


def test_audio_is_played_from_its_url() -> None:
    """An audio answer: FreeSWITCH plays the URL through its cache; the call parameters went."""
    f = Fetcher(None)
    assert resolve(f, "http://app.example/m.mp3") == ["http_cache://http://app.example/m.mp3"]
    assert f.calls == [("http://app.example/m.mp3", "GET", {"CallUUID": "u1"})]


def test_a_document_plays_back_to_back() -> None:
    """Play (looped), Speak (a Speech with its flite voice) and Wait, in order; a room's music
    is the files only (its Speak dropped, counted), an enter sound too."""
    doc = (b'<Response><Play loop="2">http://a.example/x.wav</Play>'
           b'<Speak voice="MAN">Please hold</Speak><Wait length="2"/>'
           b'<Play loop="0">http://a.example/y.wav</Play></Response>')
    parts = resolve(Fetcher(doc))
    x, y = "http_cache://http://a.example/x.wav", "http_cache://http://a.example/y.wav"
    assert parts == [x, x, Speech("Please hold", "kal"), "silence_stream://2000", y]
    files = RoomSound(f"file_string://{x}!{x}!silence_stream://2000!{y}", 1)
    assert music_sound(parts) == files
    assert spoken_sound(parts) == files


def test_speaks_alone_are_the_rooms_say() -> None:
    """An enter/exit document of Speaks only is mod_conference's `say:<text>` (the texts
    joined; a leading `#` or `{` spaced off); as music it is silence (1.10.12: a wait-mod room
    hears no `say:` music)."""
    parts = resolve(Fetcher(b"<Response><Speak>Hold on!</Speak><Speak>#1 in line</Speak>"
                            b"</Response>"))
    assert parts == [Speech("Hold on!", "slt"), Speech("#1 in line", "slt")]
    assert spoken_sound(parts) == RoomSound("say:Hold on! #1 in line")
    assert spoken_sound(parts[1:]) == RoomSound("say: #1 in line")
    assert music_sound(parts) == RoomSound(None, 2)


@pytest.mark.parametrize(("body", "error", "cause"), [
    (b"<Response><Hangup/></Response>", None,
     "<Hangup> at http://app.example/hold?...:1:11: a sound document holds only Play, Speak and Wait"),
    (b"<Response/>", None, "the sound document is empty"),
    (b"<Response><Play>", None, "XML is not well-formed"),
    (None, FetchError("GET http://app.example/hold: HTTP 404"), "GET http://app.example/hold: HTTP 404"),
])
def test_failures_name_the_attribute_the_url_and_the_cause(body, error, cause) -> None:
    """Each failure is one SoundError: attribute, URL without its query, cause."""
    with pytest.raises(SoundError) as info:
        resolve(Fetcher(body, error))
    text = str(info.value)
    assert text.startswith("<Conference> waitSound http://app.example/hold?...: "), text
    assert cause in text
    assert "s3cret" not in text
