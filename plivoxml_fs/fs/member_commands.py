"""mod_conference commands about one member: what it hears played or said to it, stopped, and
muted quietly (the `conference <room> play|saymember|stop|mute ... <member>` strings).

Split off fs/commands.py (its section 4 holds the room-level ones); every value is checked
there as here: a value FreeSWITCH would split, expand or misread raises `UnsafeValue`.
"""

from __future__ import annotations

import re

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs.commands import _MEMBER_ID, _check_text, _match, _no_expansion, room_name

#: flite voices `saymember` may name (arguments.FLITE_VOICES' values).
TTS_VOICE = re.compile(r"[a-z0-9_]{1,32}")


def conference_saymember(room: str, member_id: int, voice: str, text: str) -> str:
    """`conference <room> saymember <id> #<voice>#<text>`: the room's TTS engine speaks `text`
    to one member in `voice` (conference_member_say reads a leading `#voice#`; `{...}` there
    carries only `position`). mod_conference takes the text whole (spaces included) and
    expands `${...}` in it, so that, line breaks and control characters are refused."""
    room_name(room)
    if not isinstance(member_id, int) or member_id < 1:
        raise UnsafeValue(f"conference saymember: member id {member_id!r} is not a positive id")
    _match(TTS_VOICE, voice, "conference saymember voice")
    flat = _no_expansion(_check_text(text, "conference saymember text"),
                         "conference saymember text")
    if not flat.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in flat):
        raise UnsafeValue("conference saymember text: empty or holds a control character")
    return f"conference {room} saymember {member_id} #{voice}#{flat}"



#: Member-play ids we put in a file's `{play_id=...}` (FreeSWITCH copies it into the
#: play-file-member(-done) events, which is how a room tells its own plays apart).
_PLAY_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def conference_member_play(room: str, source: str, member_id: int, play_id: str) -> str:
    """`conference <room> play '{play_id=<id>}file_string://<source>' <member>`: `source`
    played to one member only, its done event carrying `play_id`.

    Verified on FreeSWITCH 1.10.12 (docs/multipartycall.md): the API splits its arguments at
    spaces but keeps a single-quoted one whole; every source is wrapped in one file_string
    (a file_string source list as it is). A Speak is `conference_member_say`'s: `tts://` is
    no file format there."""
    room_name(room)
    _match(_PLAY_ID, play_id, "member play id")
    text = _no_expansion(_check_text(source, "member play source"), "member play source")
    if not text or "'" in text or text.startswith("{"):
        raise UnsafeValue(f"member play source: empty, or holds a quote or a leading '{{': "
                          f"{text[:60]!r}")
    if not text.startswith("file_string://"):
        text = "file_string://" + text
    member = _match(_MEMBER_ID, str(member_id), "conference play member id")
    return f"conference {room} play '{{play_id={play_id}}}{text}' {member}"


def conference_member_say(room: str, text: str, voice: str, member_id: int) -> str:
    """`conference <room> play 'say:#<voice>#<text>' <member>`: `text` spoken to one member
    by the profile's tts-engine (mod_conference's `say:` member play).

    Measured on FreeSWITCH 1.10.12 (docs/multipartycall.md): `tts://` is no file format
    there (mod_ssml is not loaded), so a Speak cannot be a file source; `say:` is read only
    at the very start of the argument, so it takes no `{play_id=...}` prefix, and a speech
    play fires no play-file-member-done (the room queues a marker play after it). The API
    keeps a single-quoted word whole and drops a backslash only before a backslash or a
    quote, so those two are escaped; `${` would be expanded on the member's channel and is
    refused."""
    room_name(room)
    words = _no_expansion(_check_text(text, "member say text"), "member say text").strip()
    if not words:
        raise UnsafeValue("member say text: empty")
    _match(_PLAY_ID, voice, "member say voice")
    escaped = words.replace("\\", "\\\\").replace("'", "\\'")
    member = _match(_MEMBER_ID, str(member_id), "conference play member id")
    return f"conference {room} play 'say:#{voice}#{escaped}' {member}"


def conference_stop_member(room: str, member_id: int) -> str:
    """`conference <room> stop all <member>`: every file playing or queued to that member
    (each fires its play-file-member-done)."""
    room_name(room)
    member = _match(_MEMBER_ID, str(member_id), "conference stop member id")
    return f"conference {room} stop all {member}"


def conference_member_quiet(room: str, subcommand: str, member_id: int) -> str:
    """`conference <room> mute|unmute <member> quiet`: without the profile's muted/unmuted
    sounds (a room the daemon mutes for its own reasons announces nothing)."""
    if subcommand not in ("mute", "unmute"):
        raise UnsafeValue(f"conference {subcommand!r}: only mute and unmute take quiet")
    room_name(room)
    member = _match(_MEMBER_ID, str(member_id), f"conference {subcommand} member id")
    return f"conference {room} {subcommand} {member} quiet"
