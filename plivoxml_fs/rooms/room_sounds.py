"""What a room plays for a sound document (enter, exit, wait sounds), decided from its parts.

A sound URL's document is a list of parts (verbs/sounds.py `resolve_parts`): FreeSWITCH file
sources and, for each Speak, a `Speech`. FreeSWITCH 1.10.12 has no `tts://` file format (it is
mod_ssml's, not loaded: "Invalid file format [tts]", inside `file_string://` too), so a Speak
cannot be one of the files. Measured there (docs/conference.md, docs/multipartycall.md):

- `conference_enter_sound` / `conference_exit_sound` = `say:<text>`: mod_conference speaks the
  text to the room with the profile's tts-engine (the members in the room hear it); it takes
  only the text, so Speaks alone are said (joined by a space) and a Speak among Play/Wait
  cannot be said there: the files play without it.
- `conference_moh_sound` = `say:<text>`: a lone member hears it once, not looped, and a
  wait-mod room (members waiting for the start) hears nothing: the room's music has no speech;
  its files play, its Speaks are dropped.

Pure: no gevent, no I/O. The caller logs what was dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from plivoxml_fs.fs import arguments
from plivoxml_fs.rooms.mpc_model import Speech


@attrs.frozen
class RoomSound:
    """The source to set (None: no sound) and how many Speaks could not be in it."""

    source: str | None
    dropped_speaks: int = 0


def say_source(texts: Sequence[str]) -> str:
    """mod_conference's room `say:<text>`: a leading `#` or `{` would be read as a voice or
    variables, so such a text gets a space before it."""
    text = " ".join(texts)
    return "say:" + (" " + text if text[:1] in ("#", "{") else text)


def _files(files: list[str]) -> str | None:
    if not files:
        return None
    return files[0] if len(files) == 1 else arguments.file_string(files)


def spoken_sound(parts: Sequence[Any]) -> RoomSound:
    """An enter/exit sound: Speaks alone as `say:`; otherwise the files (Speaks dropped)."""
    spoken = [p.text for p in parts if isinstance(p, Speech)]
    files = [p for p in parts if not isinstance(p, Speech)]
    if spoken and not files:
        return RoomSound(say_source(spoken))
    return RoomSound(_files(files), len(spoken))


def music_sound(parts: Sequence[Any]) -> RoomSound:
    """The room's wait music (`conference_moh_sound`): its files; every Speak dropped."""
    files = [p for p in parts if not isinstance(p, Speech)]
    return RoomSound(_files(files), len(parts) - len(files))
