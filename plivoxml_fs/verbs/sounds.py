"""Sound URLs (waitSound, enterSound, exitSound, ...) resolved to one FreeSWITCH file source.

Plivo lets these attributes name "a URL returning a sound or XML with Play, Speak or Wait":

- an answer with an audio/* content type is played by FreeSWITCH from the URL itself
  (`http_cache://<url>`, fetched and cached by mod_http_cache);
- an XML answer is a document of `<Play>`, `<Speak>` and `<Wait>` only, played back to back as
  one `file_string://`: Play -> `http_cache://<url>` (`loop` times; loop="0" plays once, since
  a room repeats its music by itself), Speak -> `tts://flite|<voice>|<text>` (`loop` times),
  Wait -> `silence_stream://<ms>`. One sound plays as it is; only several are joined, so a
  text holding `!` (file_string's separator) works alone but not among other sounds.

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

#: What a sound document may hold.
SOUND_VERBS = (Play, Speak, Wait)
#: Milliseconds per second (Wait's length is in seconds).
MS_PER_S = 1000


def resolve_sound(
    fetcher: Any,
    url: str,
    method: str,
    params: Mapping[str, str],
    *,
    what: str,
    max_bytes: int,
) -> str:
    """The FreeSWITCH file source for sound URL `url`; `SoundError` when there is none."""
    sources = resolve_parts(fetcher, url, method, params, what=what, max_bytes=max_bytes)
    if len(sources) == 1:
        return sources[0]
    try:
        return arguments.file_string(sources)
    except ValueError as exc:
        raise SoundError(f"{what} {shown_url(url)}: {exc}") from None


def resolve_parts(
    fetcher: Any,
    url: str,
    method: str,
    params: Mapping[str, str],
    *,
    what: str,
    max_bytes: int,
    speech: Any = arguments.tts_source,
) -> list[Any]:
    """The sounds of sound URL `url` in order: file sources, and for each Speak what
    `speech(text, voice)` makes of it (a `tts://` source by default); `SoundError` when there
    are none."""
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
