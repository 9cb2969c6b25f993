"""Sound URLs (waitSound, enterSound, exitSound, ...) resolved to their parts.

Plivo lets these attributes name "a URL returning a sound or XML with Play, Speak or Wait":

- an answer with an audio/* content type is played by FreeSWITCH from the URL itself
  (`http_cache://<url>`, fetched and cached by mod_http_cache);
- an XML answer is a document of `<Play>`, `<Speak>` and `<Wait>` only, in order: Play ->
  `http_cache://<url>` (`loop` times; loop="0" plays once, since a room repeats its music by
  itself), Speak -> a `Speech` (text, flite voice; `loop` times), Wait ->
  `silence_stream://<ms>`. FreeSWITCH 1.10.12 has no `tts://` file format, so a Speak is no
  file source: the caller makes it a `say:` (rooms/room_sounds.py, rooms/mpc_media.py).

Every failure is a `SoundError` naming the attribute, the URL (no query secrets) and the cause;
the caller decides what the member gets without the sound. No gevent here: the fetcher does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plivoxml_fs.documents import parse_document
from plivoxml_fs.documents.models import Play, Speak, Wait
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.errors import FetchError, PlivoXMLError, SoundError
from plivoxml_fs.fs import arguments
from plivoxml_fs.rooms.mpc_model import Speech

#: What a sound document may hold.
SOUND_VERBS = (Play, Speak, Wait)
#: Milliseconds per second (Wait's length is in seconds).
MS_PER_S = 1000


def speech_part(text: str, voice: str) -> Speech:
    """One Speak of a sound document: its text and flite voice, said by mod_conference's
    `say:` (FreeSWITCH 1.10.12 has no `tts://` file format)."""
    return Speech(arguments.speak_text(text), arguments.flite_voice(voice))


def resolve_parts(
    fetcher: Any,
    url: str,
    method: str,
    params: Mapping[str, str],
    *,
    what: str,
    max_bytes: int,
    speech: Any = speech_part,
) -> list[Any]:
    """The sounds of sound URL `url` in order: file sources, and for each Speak what
    `speech(text, voice)` makes of it (a `Speech` by default); `SoundError` when there are
    none. What a room makes of them: rooms/room_sounds.py."""
    where = f"{what} {shown_url(url)}"
    try:
        body, final_url = fetcher.fetch_sound(url, method, params)
        if body is None:
            return [arguments.http_audio(url)]
        document = parse_document(body, source=shown_url(final_url), max_bytes=max_bytes,
                                  pause=getattr(fetcher, "pause", None))
        return _sources(document.verbs, speech)
    except FetchError as exc:
        raise SoundError(f"{where}: {exc}") from None
    except (PlivoXMLError, ValueError) as exc:
        problems = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise SoundError(f"{where}: {problems}") from None


def _sources(verbs: tuple[Any, ...], speech: Any) -> list[Any]:
    sources: list[Any] = []
    for verb in verbs:
        if not isinstance(verb, SOUND_VERBS):
            place = getattr(verb, "where", "?")
            raise SoundError(f"<{type(verb).__name__}> at {place}: a sound document holds only "
                             "Play, Speak and Wait")
        if isinstance(verb, Play):
            sources += [arguments.http_audio(verb.url)] * max(1, verb.loop)
        elif isinstance(verb, Speak):
            sources += [speech(verb.text, verb.voice)] * max(1, verb.loop)
        else:
            sources.append(arguments.silence_stream(verb.length * MS_PER_S))
    if not sources:
        raise SoundError("the sound document is empty")
    if len(sources) > arguments.MAX_FILE_STRING_SOURCES:
        raise SoundError(f"the sound document plays {len(sources)} sounds, more than "
                         f"{arguments.MAX_FILE_STRING_SOURCES}")
    return sources


def grouped(parts: list[Any]) -> tuple[Any, ...]:
    """Music from parts: consecutive file sources joined into file_strings (of at most
    MAX_FILE_STRING_SOURCES), each Speech on its own (a room plays them in turn)."""
    music: list[Any] = []
    files: list[str] = []

    def flush() -> None:
        for at in range(0, len(files), arguments.MAX_FILE_STRING_SOURCES):
            chunk = files[at:at + arguments.MAX_FILE_STRING_SOURCES]
            music.append(chunk[0] if len(chunk) == 1 else arguments.file_string(chunk))
        files.clear()

    for part in parts:
        if isinstance(part, Speech):
            flush()
            music.append(part)
        else:
            files.append(part)
    flush()
    return tuple(music)
