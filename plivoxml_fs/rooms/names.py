"""Room names as users write them, and the FreeSWITCH room id each one maps to.

A `<Conference>` or `<MultiPartyCall>` name is free text (Plivo's documents use
`My Conf Room`; `Tikrīt` and `Gasteiz / Vitoria` are names too). `check_room_name` says which
names we take: 1 to MAX_ROOM_NAME_CHARS characters (code points) once the surrounding XML
whitespace is stripped, any letter of any script, digits, spaces, punctuation and symbols
(`/`, `@`, `+`, ...); refused are control characters (tab, CR, LF, ...), line and paragraph
separators, the bidirectional embedding/override/isolate controls (they reorder how a log line
reads), surrogates, private-use code points and the 66 noncharacters (U+FDD0..U+FDEF, U+xFFFE,
U+xFFFF). Code points not yet assigned are taken (a newer emoji than this Python's Unicode
tables know must not make a document valid on one install and invalid on another). Names are
compared exactly as written: case matters and no Unicode normalization is applied (as on
FreeSWITCH, whose room names are case-sensitive).

`fs_room_name(name, scope)` is the name FreeSWITCH knows the room by. It must survive the
`conference` application argument (`name@profile+flags{...}`: the first `+` starts a PIN, the
last `@` a profile, `${...}` is expanded, leading spaces are dropped) and the API string
`conference <name> <command>` (split on spaces, `'` groups, `\\` escapes; `list`, when no
room of that name lives, is FreeSWITCH's list of every room), all seen on FreeSWITCH 1.10.12
(tests/fs/test_room_names_real.py). So the id is made of `[A-Za-z0-9_.-]` only, at most
FS_ID_CHARS long, and:

- a name that is already such a word, at most KEPT_CHARS long, without `--`, and not one of
  FreeSWITCH's own words (RESERVED, any case), in no scope, is its own id (`room1` -> `room1`);
- any other name gets a readable ASCII slug (accents dropped, every run of other characters
  one `-`, at most SLUG_CHARS), then `--` and HASH_CHARS characters of base32 of the SHA-256
  of the scope and the name: `My Conf Room` -> `My-Conf-Room--<hash>`, `東京` -> `room--<hash>`;
  with a scope (an account, once the control API brings them) the id starts `<scope>.`.

The mapping is deterministic. Kept ids never hold `--` and changed ones always do, so a kept
name never meets a changed one; two changed names meet only if 80 bits of SHA-256 do.
Callbacks and log lines show the user's name; the id is only for FreeSWITCH.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

#: Longest room name we take, in characters (code points), surrounding whitespace stripped.
MAX_ROOM_NAME_CHARS = 256
#: Longest name kept as its own id.
KEPT_CHARS = 64
#: Longest readable part of a changed name's id.
SLUG_CHARS = 40
#: base32 characters of the SHA-256 a changed name's id ends with (5 bits each: 80 bits).
HASH_CHARS = 16
#: Longest id (scope + "." + slug + "--" + hash); within commands.ROOM_NAME's 128.
FS_ID_CHARS = 127
#: Scopes (accounts): FreeSWITCH-safe words without `.`, which separates scope and name.
SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: What a kept name is: FreeSWITCH-safe characters, starting with a letter or digit, no `--`.
_KEPT = re.compile(rf"(?=.{{1,{KEPT_CHARS}}}\Z)[A-Za-z0-9](?:[A-Za-z0-9_.]|-(?!-))*")
#: First words of `conference ...` FreeSWITCH reads as its own (global) commands when no room
#: of that name lives, and the name `conference bridge:` reads as "the caller's uuid": never
#: kept as ids.
RESERVED = frozenset({"list", "count", "help", "xml_list", "json_list", "dial", "bgdial",
                      "_uuid_"})
#: Unicode categories refused in a name: control, surrogate, private use, line and paragraph
#: separators.
_REFUSED_CATEGORIES = {"Cc": "a control character", "Cs": "a surrogate",
                       "Co": "a private-use character", "Zl": "a line separator",
                       "Zp": "a paragraph separator"}
#: Bidirectional embedding, override and isolate controls (U+202A..U+202E, U+2066..U+2069).
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
#: Letters NFKD does not take apart, spelled in ASCII for the slug.
_SPELLED = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                          "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                          "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i", "ħ": "h",
                          "Ħ": "H"})
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_XML_SPACE = " \t\r\n"


class BadRoomName(ValueError):
    """A room name we do not take; the message says why (the caller names where)."""


def check_room_name(text: str) -> str:
    """`text` with surrounding XML whitespace stripped, if it is a room name we take;
    BadRoomName saying why otherwise."""
    name = text.strip(_XML_SPACE)
    if not name:
        raise BadRoomName(f"must be a room name of 1 to {MAX_ROOM_NAME_CHARS} characters "
                          "(it is empty)")
    if len(name) > MAX_ROOM_NAME_CHARS:
        raise BadRoomName(f"must be a room name of at most {MAX_ROOM_NAME_CHARS} characters "
                          f"(it has {len(name)})")
    for index, char in enumerate(name):
        why = refused(char)
        if why:
            raise BadRoomName(f"must hold printable characters only: {_shown(char)} at "
                              f"character {index + 1} is {why}")
    return name


def refused(char: str) -> str | None:
    """Why `char` may not be in a room name (None: it may)."""
    if char in _BIDI_CONTROLS:
        return "a bidirectional control"
    code = ord(char)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a noncharacter"
    return _REFUSED_CATEGORIES.get(unicodedata.category(char))


def fs_room_name(name: str, scope: str = "") -> str:
    """FreeSWITCH's id of the room `name` (a checked name) in `scope` ("" today)."""
    if scope and not SCOPE.fullmatch(scope):
        raise BadRoomName(f"room scope: {scope!r} does not match {SCOPE.pattern}")
    if not scope and _KEPT.fullmatch(name) and name.lower() not in RESERVED:
        return name
    source = f"{len(scope)}:{scope}:{name}".encode("utf-8", "surrogatepass")
    digest = base64.b32encode(hashlib.sha256(source).digest()).decode("ascii")
    readable = slug(name) or "room"
    return f"{scope + '.' if scope else ''}{readable}--{digest[:HASH_CHARS].lower()}"


def slug(name: str) -> str:
    """`name` in ASCII letters and digits, each run of anything else one `-` (at most
    SLUG_CHARS, no `-` at either end): `Gasteiz / Vitoria` -> `Gasteiz-Vitoria`."""
    spelled = unicodedata.normalize("NFKD", name.translate(_SPELLED))
    ascii_ = "".join(c for c in spelled if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("-", ascii_).strip("-")[:SLUG_CHARS].rstrip("-")


def _shown(char: str) -> str:
    label = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({label})" if label else "")
