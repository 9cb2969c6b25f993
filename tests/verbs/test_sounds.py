"""resolve_sound: a sound URL's audio or Play/Speak/Wait document as one FreeSWITCH source."""

from __future__ import annotations

import pytest

from plivoxml_fs.errors import FetchError, SoundError
from plivoxml_fs.fs import arguments
from plivoxml_fs.verbs.sounds import resolve_sound

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


def resolve(fetcher: Fetcher, url: str = URL) -> str:
    return resolve_sound(fetcher, url, "GET", {"CallUUID": "u1"}, what="<Conference> waitSound",
                         max_bytes=65536)


def test_audio_is_played_from_its_url() -> None:
    """An audio answer: FreeSWITCH plays the URL through its cache; the call parameters went."""
    f = Fetcher(None)
    assert resolve(f, "http://app.example/m.mp3") == "http_cache://http://app.example/m.mp3"
    assert f.calls == [("http://app.example/m.mp3", "GET", {"CallUUID": "u1"})]


def test_a_document_plays_back_to_back() -> None:
    """Play (looped), Speak (voice) and Wait become one file_string, in order."""
    doc = (b'<Response><Play loop="2">http://a.example/x.wav</Play>'
           b'<Speak voice="MAN">Please hold</Speak><Wait length="2"/>'
           b'<Play loop="0">http://a.example/y.wav</Play></Response>')
    assert resolve(Fetcher(doc)) == (
        "file_string://http_cache://http://a.example/x.wav!http_cache://http://a.example/x.wav"
        "!tts://flite|kal|Please hold!silence_stream://2000!http_cache://http://a.example/y.wav")


def test_one_sound_plays_as_it_is() -> None:
    """A single sound is not wrapped in a file_string, so its text may hold `!`."""
    assert arguments.tts_source("Hello  there", "WOMAN") == "tts://flite|slt|Hello there"
    assert resolve(Fetcher(b"<Response><Speak>Hold on!</Speak></Response>")) == (
        "tts://flite|slt|Hold on!")


@pytest.mark.parametrize(("body", "error", "cause"), [
    (b"<Response><Hangup/></Response>", None,
     "<Hangup> at http://app.example/hold?...:1:11: a sound document holds only Play, Speak and Wait"),
    (b"<Response/>", None, "the sound document is empty"),
    (b"<Response><Speak>Wow!</Speak><Wait/></Response>", None, "holds '!'"),
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
