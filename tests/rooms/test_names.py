"""Room names as users write them and the FreeSWITCH room ids they map to (rooms/names.py)."""

from __future__ import annotations

import itertools
import re

import pytest

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands
from plivoxml_fs.rooms import names
from plivoxml_fs.rooms.names import BadRoomName, check_room_name, fs_room_name

#: Names users write (Plivo's documents, the SDK's fixtures) and harder ones.
FREE = ["My Conf Room", "Ban Selaphum", "Tikrīt", "Gasteiz / Vitoria", "room@default",
        "a+b", "a{b}", "${x}", "it's", 'say "hi"', "back\\slash", "semi;colon", "pipe|x",
        "東京", "Москва", "😀", "list", "LIST", "Count", "_uuid_", "a--b", "-lead", ".dot",
        "x" * 65, "y" * 256, "Straße", "na\u200cme", "a\u00a0b", " lead", "trail "]
#: Safe short names: their own ids (so rooms named as before keep FreeSWITCH's name).
KEPT = ["room1", "Room_1.b-2", "a", "9" * 64, "x" * 64, "conf-14155550100", "meet-1a2b3c"]
#: What a FreeSWITCH id made here always is.
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,126}")


@pytest.mark.parametrize("name", KEPT)
def test_safe_short_names_are_their_own_ids(name):
    """Letters, digits, `_`, `.`, single `-`, starting with a letter or digit, at most 64."""
    assert fs_room_name(name) == name


@pytest.mark.parametrize("name", FREE)
def test_every_name_maps_to_an_id_freeswitch_takes_whole(name):
    """Every id is FreeSWITCH-safe: the app argument and the API string carry it unchanged."""
    room_id = fs_room_name(name)
    assert SAFE.fullmatch(room_id), room_id
    assert commands.conference_app(room_id, "default", ["moderator"]) == (
        f"{room_id}@default+flags{{moderator}}")
    assert commands.conference_api(room_id, "kick", "3") == f"conference {room_id} kick 3"


@pytest.mark.parametrize("name", FREE)
def test_a_changed_name_has_a_slug_and_a_hash(name):
    """A name that is not kept gets `<slug>--<16 base32 characters>`, the slug readable."""
    room_id = fs_room_name(name)
    assert room_id != name
    slug, _, digest = room_id.rpartition("--")
    assert re.fullmatch(r"[a-z2-7]{16}", digest), room_id
    assert slug == (names.slug(name) or "room")
    assert "--" not in slug and len(slug) <= names.SLUG_CHARS


@pytest.mark.parametrize(("name", "readable"), [
    ("My Conf Room", "My-Conf-Room"), ("Tikrīt", "Tikrit"), ("Gasteiz / Vitoria",
                                                             "Gasteiz-Vitoria"),
    ("Straße Łódź Ærø", "Strasse-Lodz-AEro"), ("Ban Selaphum", "Ban-Selaphum"),
    ("東京", "room"), ("list", "list"), ("  --a__b..c  ", "a-b-c"),
])
def test_slugs_are_readable(name, readable):
    """Accents dropped, a few letters spelled out, every other run one `-`; none left: room."""
    assert fs_room_name(name).rpartition("--")[0] == readable


def test_the_mapping_is_deterministic():
    """The same name (and scope) always gives the same id: what two callers meet by, and what
    another daemon would compute."""
    for name in FREE + KEPT:
        assert fs_room_name(name) == fs_room_name(str(name)) == fs_room_name(name, "")
        assert fs_room_name(name, "MA1") == fs_room_name(name, "MA1")
    assert fs_room_name("My Conf Room") == "My-Conf-Room--nbnymurqfbxnbgs6"  # pinned


def test_different_names_never_share_an_id():
    """Names whose slugs meet (case, punctuation, accents, length beyond the slug) and kept
    names that look like ids all get different ids."""
    near = ["My Conf Room", "My/Conf/Room", "my conf room", "My  Conf Room", "My-Conf-Room",
            "My Conf Room ", "Tikrīt", "Tikrit!", "Tikri\u0304t", "Tikrït", "x" * 65, "x" * 66,
            "x" * 40 + "a", "x" * 40 + "b", "Room1", "room1", "list", "List",
            fs_room_name("My Conf Room"), fs_room_name("My Conf Room").replace("--", "-")]
    near += [f"{a}{b}" for a, b in itertools.product(["a", "A", "á", "@"], repeat=2)]
    ids = [fs_room_name(name) for name in near]
    assert len(set(near)) == len(near)
    assert len(set(ids)) == len(ids)


def test_a_name_shaped_like_an_id_is_not_kept():
    """A name holding `--` is changed, so no kept name is ever another name's id."""
    other = fs_room_name("My Conf Room")
    assert fs_room_name(other) != other
    assert fs_room_name(other).count("--") == 1  # the slug lost the name's `--`


@pytest.mark.parametrize("name", ["list", "LIST", "count", "help", "xml_list", "json_list",
                                  "dial", "bgdial", "_uuid_"])
def test_freeswitch_words_are_never_ids(name):
    """`conference list ...` is FreeSWITCH's own list (1.10.12): those words are changed."""
    assert fs_room_name(name) != name


def test_commands_refuse_the_room_freeswitch_cannot_address():
    """commands.conference_api never addresses `list`: FreeSWITCH would list every room."""
    with pytest.raises(UnsafeValue, match="FreeSWITCH's own command"):
        commands.conference_api("list", "kick", "all")


def test_scopes_keep_rooms_of_one_name_apart():
    """Two accounts' rooms of one name have different ids; the scope leads the id."""
    for name in ["room1", "My Conf Room", "東京"]:
        ids = {fs_room_name(name), fs_room_name(name, "MA1"), fs_room_name(name, "MA2"),
               fs_room_name(name, "MA1x")}
        assert len(ids) == 4
        assert fs_room_name(name, "MA1").startswith("MA1.")
    # the scope and the name are hashed apart: ("MA1", "2x") is not ("MA12", "x")
    assert fs_room_name("2x", "MA1") != fs_room_name("x", "MA12")


@pytest.mark.parametrize("scope", ["a.b", "a b", "-a", "x" * 65, "ä"])
def test_scopes_are_safe_words(scope):
    with pytest.raises(BadRoomName, match="room scope"):
        fs_room_name("room1", scope)


def test_ids_stay_short_whatever_the_name():
    """The longest name in the longest scope still gives an id FreeSWITCH takes."""
    room_id = fs_room_name("y" * names.MAX_ROOM_NAME_CHARS, "S" * 64)
    assert len(room_id) == 64 + 1 + names.SLUG_CHARS + 2 + names.HASH_CHARS <= names.FS_ID_CHARS
    assert commands.room_name(room_id) == room_id


@pytest.mark.parametrize("name", FREE + KEPT + ["x" * 256])
def test_names_we_take(name):
    assert check_room_name(name) == name.strip(" ")


def test_the_length_limit_counts_characters():
    """256 characters of any script pass (1024 bytes of UTF-8 for 😀); 257 do not."""
    assert check_room_name("😀" * 256) == "😀" * 256
    with pytest.raises(BadRoomName, match=r"at most 256 characters \(it has 257\)"):
        check_room_name("é" * 257)
    assert check_room_name("\n  " + "x" * 256 + "\t") == "x" * 256  # layout is not counted


@pytest.mark.parametrize(("name", "why"), [
    ("", "it is empty"), (" \t\r\n", "it is empty"),
    ("a\tb", "U+0009 at character 2 is a control character"),
    ("a\rb", "U+000D at character 2 is a control character"),
    ("ab\n", None),  # trailing layout: stripped, the name is "ab"
    ("a\nb", "U+000A at character 2 is a control character"),
    ("a\x00", "U+0000 at character 2 is a control character"),
    ("a\x1b[31m", "U+001B at character 2 is a control character"),
    ("a\x85", "U+0085 at character 2 is a control character"),
    ("a\u2028", "U+2028 (LINE SEPARATOR) at character 2 is a line separator"),
    ("a\u2029", "U+2029 (PARAGRAPH SEPARATOR) at character 2 is a paragraph separator"),
    ("a\u202eb", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 2 is a bidirectional control"),
    ("a\u2066b", "U+2066 (LEFT-TO-RIGHT ISOLATE) at character 2 is a bidirectional control"),
    ("a\ud800", "U+D800 at character 2 is a surrogate"),
    ("a\ue000", "U+E000 at character 2 is a private-use character"),
    ("a\ufdd0", "U+FDD0 at character 2 is a noncharacter"),
    ("a\uffff", "U+FFFF at character 2 is a noncharacter"),
    ("a\U0010fffe", "U+10FFFE at character 2 is a noncharacter"),
    ("a\U000f0000", "U+F0000 at character 2 is a private-use character"),
])
def test_names_we_refuse_say_why(name, why):
    """Control characters and other unprintable ones are refused, naming which and where."""
    if why is None:
        assert check_room_name(name) == "ab"
        return
    with pytest.raises(BadRoomName) as caught:
        check_room_name(name)
    assert why in str(caught.value)


def test_unassigned_code_points_are_taken():
    """A code point no Unicode version assigns yet (U+E0080, U+2FFFD is one) passes: what a
    newer Unicode calls a letter must not depend on this Python's tables."""
    assert check_room_name("room \U000e0080") == "room \U000e0080"
    assert check_room_name("\U0002fffd") == "\U0002fffd"


def test_any_text_maps_to_a_safe_id():
    """fs_room_name never returns anything unsafe, even for text check_room_name refuses."""
    for text in ["", "a\nb", "\x00", "a b\r\n", "\ud800"]:
        assert SAFE.fullmatch(fs_room_name(text))
