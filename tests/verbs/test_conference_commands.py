"""The conference builders in plivoxml_fs.fs.commands, pinned against a real FreeSWITCH trace."""

from __future__ import annotations

import pytest
from esl import traces

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import commands

_BASIC = traces.trace_path("basic.txt").read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["moderator"], "room1@default+flags{moderator}"),
        (["mute"], "room1@default+flags{mute}"),
        (["wait-mod", "dist-dtmf"], "room1@default+flags{wait-mod|dist-dtmf}"),
    ],
)
def test_conference_app_matches_trace(flags: list[str], expected: str) -> None:
    """The application argument is what the real FreeSWITCH was sent in basic.txt."""
    built = commands.conference_app("room1", "default", flags)
    assert built == expected
    assert f"execute-app-arg: {built}\n" in _BASIC


def test_conference_app_without_flags() -> None:
    """No flags gives a bare room@profile."""
    assert commands.conference_app("room1") == "room1@default"


@pytest.mark.parametrize(
    "args",
    [("count",), ("mute", "2"), ("relate", "1", "2", "nospeak"), ("dtmf", "2", "123"),
     ("play", "tone_stream://%(200,0,700)", "1")],
)
def test_conference_api_matches_trace(args: tuple[str, ...]) -> None:
    """API strings are what the real FreeSWITCH was sent in basic.txt."""
    built = commands.conference_api("room1", *args)
    assert f"api {built}\n" in _BASIC


def test_send_digits_command_byte_for_byte() -> None:
    """sendDigits goes out as `conference <room> dtmf <member> <digits>`, pauses and all."""
    assert commands.conference_api("room1", "dtmf", "7", "1w2W#*") == "conference room1 dtmf 7 1w2W#*"


@pytest.mark.parametrize("room", ["a b", "a@b", "a+flags{x}", "a|b", "${x}", "", "a\nb",
                                  "a'b", "a\\b", "Tikr\u012bt", "list"])
def test_room_names_that_would_split_are_refused(room: str) -> None:
    """Room ids FreeSWITCH would split on, group, expand or read as its own command are
    refused, naming the room (users' names reach here only as rooms/names.py's ids)."""
    with pytest.raises(UnsafeValue, match="conference room name"):
        commands.conference_app(room)


def test_unknown_flag_refused() -> None:
    """A flag mod_conference does not know is refused by name."""
    with pytest.raises(UnsafeValue, match="conference member flag: 'loud'"):
        commands.conference_app("room1", flags=["loud"])


def test_member_id_checked() -> None:
    """A member id must be a positive number or a group name."""
    with pytest.raises(UnsafeValue, match="conference kick member id"):
        commands.conference_api("room1", "kick", "0")


def test_argument_count_checked() -> None:
    """Each subcommand takes its exact number of arguments."""
    with pytest.raises(UnsafeValue, match="conference mute: takes 1 argument"):
        commands.conference_api("room1", "mute")


def test_recording_action_checked() -> None:
    """recording takes start, stop, pause or resume only."""
    for action in ("start", "stop", "pause", "resume"):
        assert commands.conference_api("room1", "recording", action, "/tmp/r.wav") == (
            f"conference room1 recording {action} /tmp/r.wav"
        )
    with pytest.raises(UnsafeValue, match="conference recording: 'check'"):
        commands.conference_api("room1", "recording", "check", "/tmp/r.wav")


def test_energy_takes_a_member_and_a_level_within_mod_conferences_range() -> None:
    assert commands.conference_api("room1", "energy", "7", "0") == "conference room1 energy 7 0"
    assert commands.conference_api("room1", "energy", "7", "1800").endswith("7 1800")
    for member, level in (("0", "0"), ("7", "-1"), ("7", "1801"), ("7", "x")):
        with pytest.raises(UnsafeValue):
            commands.conference_api("room1", "energy", member, level)
