"""join_plan in plivoxml_fs.verbs.conference: member flags and channel variables per attribute."""

from __future__ import annotations

from plivoxml_fs.documents.build import parse_document
from plivoxml_fs.verbs.conference import BEEP_SOUNDS, join_plan


def _conf(attrs: str, name: str = "room1"):
    xml = f"<Response><Conference {attrs}>{name}</Conference></Response>".encode()
    return parse_document(xml, source="test", max_bytes=65536).verbs[0]


def test_defaults() -> None:
    """Default attributes: moderator and dist-dtmf, 20 members, channel survives the room."""
    plan = join_plan(_conf(""))
    assert plan.app_arg == "room1@default+flags{moderator|dist-dtmf}"
    assert plan.variables == (("hangup_after_conference", "false"),
                              ("conference_max_members", "20"))


def test_every_flag() -> None:
    """Each attribute turns on its member flag, in a fixed order."""
    plan = join_plan(_conf('startConferenceOnEnter="false" muted="true" endConferenceOnExit="true"'
                           ' stayAlone="false" relayDTMF="false"'))
    assert plan.app_arg == "room1@default+flags{wait-mod|mute|endconf|mintwo}"


def test_beeps_and_max_members() -> None:
    """beep sounds become tone streams; maxMembers the room's limit."""
    plan = join_plan(_conf('enterSound="beep:1" exitSound="beep:2" maxMembers="3"'))
    assert ("conference_max_members", "3") in plan.variables
    assert ("conference_enter_sound", BEEP_SOUNDS["beep:1"]) in plan.variables
    assert ("conference_exit_sound", BEEP_SOUNDS["beep:2"]) in plan.variables
    assert BEEP_SOUNDS["beep:2"] == "tone_stream://%(200,100,400);%(200,0,400)"


def test_room_settings_and_resolved_sounds_win() -> None:
    """The room's (first caller's) maxMembers and the resolved sounds go in the variables."""
    from plivoxml_fs.rooms.model import RoomSettings
    from plivoxml_fs.verbs.conference import Sounds

    first = RoomSettings.of(_conf('maxMembers="4"'))
    plan = join_plan(_conf('maxMembers="9"'), "wideband", room=first,
                     sounds_=Sounds("http_cache://http://a/x.wav", None, "tone_stream://%(1,0,2)"))
    assert plan.app_arg.startswith("room1@wideband+flags{")
    assert plan.variables == (
        ("hangup_after_conference", "false"),
        ("conference_max_members", "4"),
        ("conference_enter_sound", "http_cache://http://a/x.wav"),
        ("conference_moh_sound", "tone_stream://%(1,0,2)"),
    )


def test_free_text_names_join_the_rooms_id() -> None:
    """`My Conf Room @ HQ+1` goes to FreeSWITCH as its room id, never as written (its `@` and
    `+` would pick a profile and a PIN, its spaces would split API strings)."""
    from plivoxml_fs.rooms.names import fs_room_name

    conf = _conf("", "My Conf Room @ HQ+1")
    assert conf.name == "My Conf Room @ HQ+1"
    room_id = fs_room_name(conf.name)
    assert room_id.startswith("My-Conf-Room-HQ-1--")
    assert join_plan(conf).app_arg == f"{room_id}@default+flags{{moderator|dist-dtmf}}"
    assert join_plan(conf, fs_name="r--x").app_arg == "r--x@default+flags{moderator|dist-dtmf}"


def test_a_transcribed_room_does_not_gate_its_members() -> None:
    """A room whose recording is transcribed joins every member with energy level 0: the
    energy gate would drop the first sound of each utterance (docs/transcription.md); a room
    recorded without a transcript, or not recorded, keeps the profile's gate."""
    from plivoxml_fs.rooms.model import RoomSettings

    transcribed = RoomSettings.of(_conf('record="true" transcriptionType="auto" '
                                        'transcriptionUrl="http://a/tx"'))
    plan = join_plan(_conf(""), room=transcribed)
    assert ("conference_join_energy_level", "0") in plan.variables
    from plivoxml_fs.fs import commands

    assert "conference_join_energy_level=0" in commands.conference_variables(plan.variables)[0][1]
    for attrs_ in ('record="true"', 'transcriptionUrl="http://a/tx"'):
        plan = join_plan(_conf(attrs_), room=RoomSettings.of(_conf(attrs_)))
        assert all(name != "conference_join_energy_level" for name, _ in plan.variables)
