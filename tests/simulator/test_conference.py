"""The conference application and its events, pinned to the recorded FreeSWITCH 1.10.12 traces."""

from __future__ import annotations

import json

import pytest
from waiting import until

from plivoxml_fs.simulator.conference import Profile, parse_join
from plivoxml_fs.simulator.conference_api import cjson
from simulator.conference_helpers import (
    actions,
    api,
    conference_events,
    drain,
    inbound,
    join,
    names_of,
    raw_event,
    wait_action,
)
from simulator.helpers import (
    SHARED_TRACES,
    complete,
    event_names_on,
    execute,
    is_event,
    set_up,
    start_call,
    summary,
    trace_messages,
)

BASIC = SHARED_TRACES / "basic.txt"


def trace_action_body(path, action: str, conn: str = "inbound") -> str:
    for direction, c, text in trace_messages(path):
        if direction == "<<<" and c.startswith(conn) and f"\nAction: {action}\n" in text:
            return text.split("\n\n", 1)[1]
    raise AssertionError(f"{path.name}: no {action}")


def without_alone_sound(sim) -> None:
    """The traces' FreeSWITCH had no alone-sound: for tests held to a trace's event order."""
    sim.conferences.profiles["default"] = Profile("default", 8000, alone_sound=None)


def with_trace_moh(sim) -> None:
    """The traces' FreeSWITCH had moh-sound local_stream://moh in its default profile and no
    alone-sound."""
    sim.conferences.profiles["default"] = Profile("default", 8000, "local_stream://moh",
                                                  alone_sound=None)


@pytest.mark.parametrize(("arg", "room", "profile", "flags"), [
    ("room1", "room1", "default", set()),
    ("room1@wideband", "room1", "wideband", set()),
    ("r@default+flags{mute|deaf}", "r", "default", {"mute", "deaf"}),
    ("r+flags{moderator|endconf}", "r", "default", {"moderator", "endconf"}),
    ("a@b@default", "a@b", "default", set()),  # the last `@` starts the profile
    ("My Conf Room@wideband+flags{mute}", "My Conf Room", "wideband", {"mute"}),
    ("a+1234@default", "a", "default", set()),  # the first `+` starts a PIN
    ("  lead@default", "lead", "default", set()),
    ("trail @default", "trail ", "default", set()),  # trailing spaces are the room's
    ("Tikrīt", "Tikrīt", "default", set()),
])
def test_parse_join(arg, room, profile, flags):
    """room[@profile][+flags{...}] splits into room, profile (default) and flags, as
    FreeSWITCH 1.10.12 splits them (tests/fs/test_room_names_real.py compares the two)."""
    spec = parse_join(arg)
    assert (spec.room, spec.profile, set(spec.flags)) == (room, profile, flags)


def test_first_member_events_and_headers(sim, daemon):
    """conference-create, add-member, floor-change to inbound; headers as basic.txt in order."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "c1", "room1@default+flags{moderator}")
    wait_action(inb, "floor-change")
    events = conference_events(inb)
    assert actions(events) == ["conference-create", "add-member 1", "floor-change 1"]
    add = events[1]
    assert (add["Unique-ID"], add["Member-Type"], add["Floor"]) == (member.b_uuid, "moderator",
                                                                     "false")
    assert events[2]["New-ID"] == "1" and events[2]["Old-ID"] == "none"
    for action in ("conference-create", "add-member", "floor-change"):
        assert names_of(raw_event(inb, action)) == names_of(trace_action_body(BASIC, action))


def test_outbound_socket_gets_only_own_member_events(sim, daemon):
    """The member's socket (myevents + CUSTOM) gets its add-member/floor-change, no create."""
    inb = inbound(sim.inbound_address)
    first = join(inb, daemon, "o1", "roomO")
    wait_action(first.wire, "floor-change")
    second = join(inb, daemon, "o2", "roomO")
    wait_action(second.wire, "add-member")
    drain(first.wire)
    assert actions(conference_events(first.wire)) == ["add-member 1", "floor-change 1"]
    assert actions(conference_events(second.wire)) == ["add-member 2"]


def test_member_socket_without_custom_gets_no_conference_events(sim, daemon):
    """Only myevents on the socket: the member joins but no conference event reaches it."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "n1", "roomN", subscribe=False)
    wait_action(inb, "floor-change")
    drain(member.wire, 0.2)
    assert conference_events(member.wire) == []


def test_member_ids_are_global_across_rooms(sim, daemon):
    """Member ids count across all rooms: 1 in roomA, 2 in roomB, 3 in roomA."""
    inb = inbound(sim.inbound_address)
    for tag, room in (("g1", "roomA"), ("g2", "roomB"), ("g3", "roomA")):
        join(inb, daemon, tag, room)
        wait_action(inb, "add-member")
    assert api(inb, "conference roomA list").count(";") == 16
    assert [line.split(";")[0] for line in api(inb, "conference roomA list").splitlines()] == [
        "3", "1"]


def _basic_room(sim, daemon):
    """Three members as basic.txt: moderator, mute, wait-mod|dist-dtmf."""
    with_trace_moh(sim)
    inb = inbound(sim.inbound_address)
    members = []
    for tag, flags in (("c1", "moderator"), ("c2", "mute"), ("c3", "wait-mod|dist-dtmf")):
        members.append(join(inb, daemon, tag, f"room1@default+flags{{{flags}}}",
                            sets=["conference_controls=none"]))
        wait_action(inb, "add-member", member_id=str(len(members)))
    drain(inb)
    return inb, members


def test_api_replies_as_basic_trace(sim, daemon):
    """Each sub-command of basic.txt answers the recorded text."""
    inb, members = _basic_room(sim, daemon)
    uuids = {m.b_uuid: f"<uuid{i + 1}>" for i, m in enumerate(members)}
    room_uuid = sim.conferences.rooms["room1"].uuid

    def ask(command: str) -> str:
        text = api(inb, command)
        for uuid, label in uuids.items():
            text = text.replace(uuid, label)
        return text.replace(room_uuid, "<room>")

    assert ask("conference room1 list") == (
        "3;loopback/c3-b;<uuid3>;;0000000000;hear|speak;0;0;100\n"
        "2;loopback/c2-b;<uuid2>;;0000000000;hear;0;0;100\n"
        "1;loopback/c1-b;<uuid1>;;0000000000;hear|speak|floor|moderator;0;0;100\n")
    assert ask("conference list").startswith(
        "+OK Conference room1 (3 members rate: 8000 flags: running|answered|enforce_min|dynamic|"
        "exit_sound|enter_sound|json_status)\n3;loopback/c3-b;")
    expected = [
        ("count", "3"), ("mute 2", "+OK mute 2\n"), ("unmute 2", "+OK unmute 2\n"),
        ("tmute 2", "+OK mute 2\n"), ("deaf 1", "+OK deaf 1\n"), ("undeaf 1", "+OK undeaf 1\n"),
        ("hold 2", "+OK hold 2\n"), ("unhold 2", "+OK unhold 2\n"),
        ("relate 1 2 nospeak", "+OK 1->2 nospeak set\n"),
        ("relate 1 2", "relate <member_id>[,<member_id>] <other_member_id>[,<other_member_id>] "
                       "[nospeak|nohear|clear]"),
        ("relate 1 2 clear", "+OK relationship 1->2 cleared.\n"),
        ("relate 1 99 nospeak", "-ERR relationship 1->99 not found.\n"),
        ("floor 2", "-ERR floor is held by 1\n"), ("dtmf 2 123", "+OK sent 123 to 2\n"),
        ("play tone_stream://%(200,0,500) async",
         "+OK (play) Playing file tone_stream://%(200,0,500)\n"),
        ("play tone_stream://%(200,0,700) 1",
         "+OK (play) Playing file tone_stream://%(200,0,700) to member 1\n"),
        ("play /nonexistent.wav", "-ERR (play) File: /nonexistent.wav not found.\n"),
        ("say hello", "+OK (say) OK\n"),
        ("lock", "+OK room1 locked\n"), ("unlock", "+OK room1 unlocked\n"),
        ("get uuid", "<room>"), ("get count", "3"), ("get max_members", "0"),
        ("set max_members 5", "0"), ("get max_members", "5"), ("set max_members 0", "5"),
        ("energy 1 300", "Energy 1 = 300\n"), ("volume_in 1 2", "+OK Volume IN 1 = 2\n"),
        ("volume_out 1 3", "+OK Volume OUT 1 = 3\n"),
        ("mute 99", "-ERR Non-Existant ID 99\n"), ("bogus", "-ERR Conference command 'bogus' "
                                                         "not found.\n"),
        ("mute", "mute <[member_id|all]|last|non_moderator> [<quiet>]"),
        ("kick 3", "+OK kicked 3\n"), ("hup 2", "+OK hup 2\n"),
    ]
    for command, reply in expected:
        assert ask(f"conference room1 {command}") == reply, command
    assert ask("conference nosuch list") == "-ERR Conference nosuch not found\n"


def test_api_events_in_basic_trace_order(sim, daemon):
    """The events the sub-commands cause come in basic.txt's order, with its headers."""
    inb, members = _basic_room(sim, daemon)
    start = len(inb.received)
    # what came before (the hold music's play-file-done) is not what the waits below look for
    inb.__dict__.setdefault("claimed", set()).update(id(m) for _, m in inb.received[:start])
    for command in ("mute 2", "unmute 2", "tmute 2", "deaf 1", "undeaf 1", "hold 2", "unhold 2",
                    "dtmf 2 123", "play tone_stream://%(200,0,500) async"):
        api(inb, f"conference room1 {command}")
    wait_action(inb, "play-file-done")
    for command in ("play tone_stream://%(200,0,700) 1", "say hello", "lock", "unlock",
                    "energy 1 300", "volume_in 1 2", "kick 3"):
        api(inb, f"conference room1 {command}")
    wait_action(inb, "del-member", member_id="3")
    api(inb, "conference room1 hup 2")
    wait_action(inb, "del-member", member_id="2")
    wait_action(inb, "play-file-member-done")  # member 1's 700 ms tone may still be playing
    seen = [m.event() for _, m in inb.received[start:] if m.is_event
            and m.event().subclass == "conference::maintenance"]
    ordered = [a for a in actions(seen) if a != "play-file-member-done 1"]  # timing-bound
    assert ordered == [
        "mute-member 2", "unmute-member 2", "mute-member 2", "deaf-member 1",
        "undeaf-member 1", "hold-member 2", "unhold-member 2", "dtmf-member 2", "play-file",
        "play-file-done", "play-file-member 1", "speak-text", "lock", "unlock",
        "energy-level-member 1", "volume-in-member 1",
        "kick-member 3", "del-member 3", "hup-member 2", "del-member 2",
    ]
    assert actions(seen).count("play-file-member-done 1") == 1
    for action in ("mute-member", "dtmf-member", "play-file", "play-file-done",
                   "play-file-member", "play-file-member-done", "speak-text", "lock",
                   "energy-level-member", "volume-in-member", "kick-member", "del-member",
                   "hup-member"):
        assert names_of(raw_event(inb, action)) == names_of(trace_action_body(BASIC, action)), \
            action
    assert [e.get("Digits") for e in seen if e.get("Action") == "dtmf-member"] == ["123"]


def test_api_dtmf_reaches_the_members_caller(sim, daemon):
    """`dtmf 2 123`: the digits arrive on member 2's A leg, 20 ms apart."""
    inb, members = _basic_room(sim, daemon)
    api(inb, "conference room1 dtmf 2 123")
    history = sim.channel(members[1].a_uuid).history
    until("three digits", lambda: len([r for r in history if r.kind == "dtmf"]) >= 3)
    assert [str(r) for r in history if r.kind == "dtmf"] == ["dtmf 1", "dtmf 2", "dtmf 3"]


def test_kick_all_destroys_the_room_and_the_call_goes_on(sim, daemon):
    """kick all: one line per member, del-member, conference-destroy; the call stays up."""
    without_alone_sound(sim)
    inb = inbound(sim.inbound_address)
    first = join(inb, daemon, "k1", "roomK")
    wait_action(inb, "floor-change")
    join(inb, daemon, "k2", "roomK")
    wait_action(inb, "add-member", member_id="2")
    assert api(inb, "conference roomK kick all") == "+OK kicked 2\n+OK kicked 1\n"
    wait_action(inb, "conference-destroy")
    first.wire.until(complete("conf-k1"))
    assert sim.channel(first.b_uuid).is_up
    assert api(inb, "conference roomK list") == "-ERR Conference roomK not found\n"
    tail = actions(conference_events(inb))[-6:]
    assert tail == ["kick-member 2", "kick-member 1", "del-member 2", "floor-change",
                    "del-member 1", "conference-destroy"]


def test_full_room_completes_at_once(sim, daemon):
    """conference_max_members=2: the third caller's app completes with no add-member."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "x1", "roomX", sets=["conference_max_members=2"])
    wait_action(inb, "floor-change")
    join(inb, daemon, "x2", "roomX")
    wait_action(inb, "add-member", member_id="2")
    third = join(inb, daemon, "x3", "roomX")
    third.wire.until(complete("conf-x3"))
    drain(inb, 0.2)
    assert [a for a in actions(conference_events(inb)) if a.startswith("add-member")] == [
        "add-member 1", "add-member 2"]
    assert sim.channel(third.b_uuid).is_up


def test_a_limit_of_one_is_no_limit(sim, daemon):
    """conference_max_members=1 is refused by mod_conference ("invalid, not setting a limit")."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "y1", "roomY", sets=["conference_max_members=1"])
    wait_action(inb, "floor-change")
    join(inb, daemon, "y2", "roomY")
    wait_action(inb, "add-member", member_id="2")
    assert api(inb, "conference roomY count") == "2"


def test_locked_room_refuses(sim, daemon):
    """A locked room: the conference app completes at once, no add-member."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "l1", "roomL")
    wait_action(inb, "floor-change")
    api(inb, "conference roomL lock")
    second = join(inb, daemon, "l2", "roomL")
    second.wire.until(complete("conf-l2"))
    assert api(inb, "conference roomL count") == "1"


def test_endconf_hangs_up_others_unless_told_not_to(sim, daemon):
    """endconf leaving: the room ends; members are hung up, except hangup_after_conference=false."""
    without_alone_sound(sim)
    inb = inbound(sim.inbound_address)
    stay = join(inb, daemon, "e1", "roomE", sets=["hangup_after_conference=false"])
    wait_action(inb, "floor-change")
    go = join(inb, daemon, "e2", "roomE")
    wait_action(inb, "add-member", member_id="2")
    moderator = join(inb, daemon, "e3", "roomE+flags{moderator|endconf}")
    wait_action(inb, "add-member", member_id="3")
    api(inb, f"uuid_kill {moderator.a_uuid}")
    wait_action(inb, "conference-destroy")
    stay.wire.until(complete("conf-e1"))
    assert sim.wait_hangup(go.b_uuid, 3)
    assert sim.channel(stay.b_uuid).is_up
    tail = actions(conference_events(inb))[-5:]
    assert tail[0] == "del-member 3" and tail[-1] == "conference-destroy"
    assert sorted(tail[1:-1]) == ["del-member 1", "del-member 2", "floor-change"]


def test_mintwo_ends_the_room_when_one_is_left(sim, daemon):
    """mintwo: when the second member leaves, the last one is removed and hung up."""
    inb = inbound(sim.inbound_address)
    first = join(inb, daemon, "m1", "roomM+flags{mintwo}")
    wait_action(inb, "floor-change")
    second = join(inb, daemon, "m2", "roomM")
    wait_action(inb, "add-member", member_id="2")
    api(inb, f"uuid_kill {second.a_uuid}")
    wait_action(inb, "conference-destroy")
    assert sim.wait_hangup(first.b_uuid, 3)


def test_wait_mod_music_until_the_moderator_comes(sim, daemon, tmp_path):
    """wait-mod: conference_moh_sound plays until the moderator joins (play-file-done Async)."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "w1", "roomW+flags{wait-mod}", sets=["conference_moh_sound="
                                                            "local_stream://moh"])
    wait_action(inb, "floor-change")
    until("the hold music", lambda: sim.conferences.rooms["roomW"].moh is not None)
    join(inb, daemon, "w2", "roomW+flags{moderator}",
         sets=["conference_enter_sound=tone_stream://%(100,0,900)"])
    done = wait_action(inb, "play-file-done")
    assert (done["File"], done["Async"]) == ("local_stream://moh", "true")
    enter = wait_action(inb, "play-file-done")
    assert enter["File"] == "tone_stream://%(100,0,900)" and enter.get("Async") is None
    # 100 ms played, reported twice over as FreeSWITCH 1.10.12 does (flags.txt: 200, 1600)
    assert (enter["milliseconds"], enter["samples"]) == ("200", "1600")


def test_no_hold_music_again_when_the_moderator_leaves_two_waiting(sim, daemon):
    """Two wait-mod members and a moderator; the moderator leaves: the two hear no hold music
    (1.10.12, probed: CFLAG_WAIT_MOD stays cleared once a moderator came, json_list says
    wait_mod false and no music plays to the two; only a member left alone gets music)."""
    inb = inbound(sim.inbound_address)
    moh = ["conference_moh_sound=local_stream://moh"]
    join(inb, daemon, "x1", "roomX+flags{wait-mod}", sets=moh)
    join(inb, daemon, "x2", "roomX+flags{wait-mod}", sets=moh)
    wait_action(inb, "add-member", member_id="2")
    room = sim.conferences.rooms["roomX"]
    until("the hold music", lambda: room.moh is not None)
    boss = join(inb, daemon, "x3", "roomX+flags{moderator}", sets=moh)
    wait_action(inb, "add-member", member_id="3")
    until("the music stopped", lambda: room.moh is None)
    api(inb, f"uuid_kill {boss.a_uuid}")
    wait_action(inb, "del-member", member_id="3")
    assert len(room.members) == 2 and not room.wait_mod
    assert room.moh is None
    assert '"wait_mod":\tfalse' in api(inb, "conference roomX json_list")


def test_hold_music_that_ends_plays_again_while_the_member_waits(sim, daemon):
    """A finite conference_moh_sound (a 3 s WAV as a waitSound, measured on 1.10.12) plays
    again each time it ends, with a play-file-done (Async) each time, until the moderator
    comes; the music stays the room's all along."""
    inb = inbound(sim.inbound_address)
    music = "tone_stream://%(200,0,650)"
    join(inb, daemon, "w1", "roomL+flags{wait-mod}", sets=[f"conference_moh_sound={music}"])
    wait_action(inb, "floor-change")
    room = sim.conferences.rooms["roomL"]
    until("the hold music", lambda: room.moh is not None)
    playing = room.moh
    for _ in range(3):
        done = wait_action(inb, "play-file-done")
        assert (done["File"], done["Async"]) == (music, "true")
        assert done["milliseconds"] != "0"
    assert room.moh is playing and playing in room.playbacks and not playing.done.is_set()
    spans = [f for f in room.mixer.files if f.signal is not None and f.member is None]
    assert len(spans) >= 3 and all(f.end_ms is not None for f in spans[:3])
    join(inb, daemon, "w2", "roomL+flags{moderator}")
    until("the music stopped", lambda: playing.done.is_set())
    assert room.moh is None


def test_exit_sound_plays_to_the_room(sim, daemon):
    """conference_exit_sound of a leaving member plays to those who stay."""
    inb = inbound(sim.inbound_address)
    stay = join(inb, daemon, "s1", "roomS")
    wait_action(inb, "floor-change")
    assert wait_action(inb, "play-file-done")["File"] == "silence_stream://20"  # alone-sound
    leave = join(inb, daemon, "s2", "roomS", sets=["conference_exit_sound=tone_stream://"
                                                    "%(200,0,300)"])
    wait_action(inb, "add-member", member_id="2")
    api(inb, "conference roomS kick 2")
    done = wait_action(inb, "play-file-done")
    assert (done["File"], done["milliseconds"]) == ("tone_stream://%(200,0,300)", "400")
    assert leave.b_uuid != stay.b_uuid
    assert "conference_heard tone_stream://%(200,0,300) (200 ms)" in [
        str(r) for r in sim.channel(stay.b_uuid).history]


def test_own_digits_arrive_on_the_members_socket(sim, daemon):
    """A member's digits come as DTMF events on its own socket."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "d1", "roomD")
    wait_action(inb, "floor-change")
    api(inb, f"uuid_send_dtmf {member.a_uuid} 45")
    digits = [m.event()["DTMF-Digit"] for m in member.wire.until(
        lambda m: m.is_event and m.event().get("DTMF-Digit") == "5")
        if m.is_event and m.event().name == "DTMF"]
    assert digits == ["4", "5"]


def test_dist_dtmf_relays_to_the_other_members(sim, daemon):
    """dist-dtmf: the digits reach the other members' callers (their A legs), not a dtmf event."""
    inb = inbound(sim.inbound_address)
    listener = join(inb, daemon, "r1", "roomR")
    wait_action(inb, "floor-change")
    sender = join(inb, daemon, "r2", "roomR+flags{dist-dtmf}")
    wait_action(inb, "add-member", member_id="2")
    api(inb, f"uuid_send_dtmf {sender.a_uuid} 45#")
    history = sim.channel(listener.a_uuid).history
    until("three digits relayed", lambda: len([r for r in history if r.kind == "dtmf"]) >= 3)
    heard = [r.detail for r in history if r.kind == "dtmf"]
    assert heard == ["4", "5", "#"]
    assert "dtmf-member" not in actions(conference_events(inb))


def test_hangup_on_star_leaves_the_room(sim, daemon):
    """conference_controls=hangup-on-star: `*` makes the member leave; the call goes on."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "h1", "roomH", sets=["conference_controls=hangup-on-star"])
    wait_action(inb, "floor-change")
    api(inb, f"uuid_send_dtmf {member.a_uuid} 1*")
    member.wire.until(complete("conf-h1"))
    assert sim.channel(member.b_uuid).is_up
    assert wait_action(inb, "conference-destroy")


def test_digits_without_controls_do_not_leave(sim, daemon):
    """conference_controls=none: `*` is only a DTMF event."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "h2", "roomH2", sets=["conference_controls=none"])
    wait_action(inb, "floor-change")
    api(inb, f"uuid_send_dtmf {member.a_uuid} *")
    member.wire.until(is_event("DTMF"))
    assert api(inb, "conference roomH2 count") == "1"


def test_talk_fires_talking_and_floor(sim, daemon):
    """talk(): start-talking, floor-change to the talker, stop-talking with media.txt's headers."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "t1", "roomT")
    wait_action(inb, "floor-change")
    talker = join(inb, daemon, "t2", "roomT")
    wait_action(inb, "add-member", member_id="2")
    assert sim.talk(talker.b_uuid, 400)
    start = wait_action(inb, "start-talking")
    assert (start["Member-ID"], start["Talking"]) == ("2", "true")
    floor = wait_action(inb, "floor-change")
    assert (floor["Old-ID"], floor["New-ID"]) == ("1", "2")
    assert "talking|floor" in api(inb, "conference roomT list").splitlines()[0]
    stop = wait_action(inb, "stop-talking")
    # one frame less than the audio, as media.txt's 1480 for 1500 ms
    assert (stop["talking-duration-ms"], stop["Talking"]) == ("380", "false")
    media = SHARED_TRACES / "media.txt"
    assert names_of(raw_event(inb, "start-talking")) == names_of(
        trace_action_body(media, "start-talking", conn="in"))
    assert not sim.talk("no-such-uuid", 100)


def test_unknown_profile_joins_with_default(sim, daemon):
    """room@nosuchprofile joins anyway with the default profile (as FreeSWITCH did)."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "p1", "roomP@nosuchprofile")
    add = wait_action(inb, "add-member")
    assert add["Conference-Profile-Name"] == "default"


def test_member_history_records_the_stay(sim, daemon):
    """The member's history says which room, which member, why it left."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "y1", "roomY")
    wait_action(inb, "floor-change")
    api(inb, "conference roomY hup 1")
    member.wire.until(complete("conf-y1"))
    assert "conference roomY member 1 (hup)" in [str(r) for r in
                                                 sim.channel(member.b_uuid).history]


def test_caller_playing_a_file_makes_the_member_talk(sim, daemon):
    """uuid_broadcast of a tone on a member's A leg: start-talking, floor-change, stop-talking
    with media.txt's headers; silence does not talk."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "b1", "roomB")
    wait_action(inb, "floor-change")
    member = join(inb, daemon, "b2", "roomB")
    wait_action(inb, "add-member", member_id="2")
    assert api(inb, f"uuid_broadcast {member.a_uuid} silence_stream://300 aleg") == (
        "+OK Message sent\n")
    history = sim.channel(member.a_uuid).history
    until("the silence played", lambda: any(r.kind == "played" for r in history))
    assert api(inb, f"uuid_broadcast {member.a_uuid} tone_stream://%(600,0,600) aleg") == (
        "+OK Message sent\n")
    stop = wait_action(inb, "stop-talking")
    assert (stop["Member-ID"], stop["talking-duration-ms"]) == ("2", "580")
    media = SHARED_TRACES / "media.txt"
    assert names_of(raw_event(inb, "stop-talking")) == names_of(
        trace_action_body(media, "stop-talking", conn="in"))
    assert actions(conference_events(inb))[-3:] == ["start-talking 2", "floor-change 2",
                                                    "stop-talking 2"]
    assert "played tone_stream://%(600,0,600) (600 ms)" in [
        str(r) for r in sim.channel(member.a_uuid).history]


def test_a_steady_tone_of_whole_sample_periods_stops_talking_without_statistics(sim, daemon):
    """A 500 Hz tone measures the same in every frame: stop-talking carries no talking-*
    headers, with the header names of media.txt's stop-talking after its 500 Hz tone."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "q1", "roomQ")
    wait_action(inb, "floor-change")
    member = join(inb, daemon, "q2", "roomQ")
    wait_action(inb, "add-member", member_id="2")
    api(inb, f"uuid_broadcast {member.a_uuid} tone_stream://%(600,0,500) aleg")
    wait_action(inb, "stop-talking")
    recorded = [text.split("\n\n", 1)[1] for direction, conn, text
                in trace_messages(SHARED_TRACES / "media.txt") if direction == "<<<"
                and conn.startswith("in") and "\nAction: stop-talking\n" in text]
    assert "talking-gate-hits" not in recorded[1]
    assert names_of(raw_event(inb, "stop-talking")) == names_of(recorded[1])


def test_uuid_broadcast_errors(sim):
    """uuid_broadcast without a path or to an unknown channel answers FreeSWITCH's texts."""
    assert sim.api("uuid_broadcast x") == "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    assert sim.api("uuid_broadcast nosuch /a.wav") == "-ERR invalid uuid\n"


def test_member_hangup_while_lingering_as_lifecycle_trace(sim, daemon):
    """The moderator hangs up: its lingering socket gets CHANNEL_HANGUP, the linger notice,
    del-member, the conference's completion ... CHANNEL_HANGUP_COMPLETE, as lifecycle.txt."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=5)
    execute(wire, "answer")
    execute(wire, "conference", "roomL@default+flags{moderator|endconf}", uuid="conf-L1")
    wire.until(lambda m: m.is_event and m.event().get("Action") == "floor-change")
    sim.api("uuid_kill aleg-L1")
    wire.until(is_event("CHANNEL_HANGUP_COMPLETE"))

    def from_conference(items: list[str]) -> list[str]:
        start = items.index("CHANNEL_EXECUTE conference")
        return items[start: items.index("CHANNEL_HANGUP_COMPLETE") + 1]

    mine = from_conference(summary([m for _, m in wire.received]))
    assert mine == from_conference(event_names_on(SHARED_TRACES / "lifecycle.txt", "outbound-1"))
    assert "del-member" in [m.event().get("Action") for _, m in wire.received if m.is_event]


def _trace_json_list() -> str:
    for direction, _, text in trace_messages(BASIC):
        if direction == "<<<" and text.startswith("Content-Type: api/response") and (
                '"conference_name"' in text):
            return text.split("\n\n", 1)[1].rstrip("\n")
    raise AssertionError("basic.txt: no json_list reply")


def test_cjson_prints_as_the_trace():
    """The cJSON printer re-renders basic.txt's json_list reply byte for byte."""
    text = _trace_json_list()
    assert cjson(json.loads(text)) == text


def test_json_list_has_the_traces_fields(sim, daemon):
    """json_list: the same keys as basic.txt's, in order, with this room's members and flags."""
    inb, members = _basic_room(sim, daemon)
    mine = json.loads(api(inb, "conference room1 json_list"))
    real = json.loads(_trace_json_list())
    assert list(mine[0]) == list(real[0])
    assert [list(m) for m in mine[0]["members"]] == [list(m) for m in real[0]["members"]]
    assert [m["flags"] for m in mine[0]["members"]] == [m["flags"] for m in real[0]["members"]]
    assert [m["uuid"] for m in mine[0]["members"]] == [m.b_uuid for m in reversed(members)]


def test_endconf_exit_sound_is_cut_as_flags_trace(sim, daemon):
    """An endconf moderator with an exit sound leaves: del-member, the exit sound's
    play-file-done at 0 ms, then the others' floor-change, del-member, conference-destroy."""
    without_alone_sound(sim)
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "q1", "roomQ")
    wait_action(inb, "floor-change")
    moderator = join(inb, daemon, "q2", "roomQ+flags{moderator|endconf}",
                     sets=["conference_exit_sound=tone_stream://%(100,0,300)"])
    wait_action(inb, "add-member", member_id="2")
    api(inb, f"uuid_kill {moderator.a_uuid}")
    wait_action(inb, "conference-destroy")
    events = conference_events(inb)
    tail = [f"{e['Action']} {e.get('File') or ''} {e.get('milliseconds') or ''}".strip()
            for e in events[-5:]]
    assert tail == ["del-member", "play-file-done tone_stream://%(100,0,300) 0", "floor-change",
                    "del-member", "conference-destroy"]


def _variables(text: str) -> list[str]:
    return [line.split(": ", 1)[0] for line in text.split("\n") if line.startswith("variable_")]


def test_member_variables_as_lifecycle_trace(sim, daemon):
    """The conference's completion carries conference_name ... read_rate last, in the order
    lifecycle.txt shows; a refused member gets conference_name and app_session_uuid only."""
    _, wire, _, _ = start_call(sim, daemon)
    set_up(wire, linger=5)
    execute(wire, "conference", "roomL@default+flags{moderator|endconf}", uuid="conf-L1")
    wire.until(lambda m: m.is_event and m.event().get("Action") == "floor-change")
    sim.api("uuid_kill aleg-L1")
    wire.until(complete("conf-L1"))
    raw = next(r for r, m in wire.received if complete("conf-L1")(m)).decode()
    real = next(text for d, c, text in trace_messages(SHARED_TRACES / "lifecycle.txt")
                if d == "<<<" and "Application-UUID: conf-L1" in text
                and "CHANNEL_EXECUTE_COMPLETE" in text)
    tail = ["variable_conference_name", "variable_app_session_uuid",
            "variable_conference_member_id", "variable_conference_moderator",
            "variable_conference_ghost", "variable_conference_uuid", "variable_read_codec",
            "variable_read_rate"]
    assert _variables(real)[-8:] == tail
    assert _variables(raw)[-8:] == tail
    event = next(m for _, m in wire.received if complete("conf-L1")(m)).event()
    room_uuid = event.variable("conference_uuid")
    assert event.variable("app_session_uuid") == room_uuid
    assert (event.variable("conference_member_id"), event.variable("conference_moderator")) == (
        "1", "true")


def test_refused_member_variables(sim, daemon):
    """A member refused by a full room gets conference_name and app_session_uuid, no member id
    (flags.txt)."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "v1", "roomV", sets=["conference_max_members=2"])
    wait_action(inb, "floor-change")
    join(inb, daemon, "v2", "roomV")
    wait_action(inb, "add-member", member_id="2")
    refused = join(inb, daemon, "v3", "roomV")
    event = refused.wire.until(complete("conf-v3"))[-1].event()
    assert event.variable("conference_name") == "roomV"
    assert event.variable("app_session_uuid") == sim.conferences.rooms["roomV"].uuid
    assert event.variable("conference_member_id") is None


def test_wideband_room_in_conference_list(sim, daemon):
    """`conference list` of a one-member wideband room: `1 member rate: 16000`, as the real one."""
    inb = inbound(sim.inbound_address)
    member = join(inb, daemon, "wb1", "roomWB@wideband")
    add = wait_action(inb, "add-member")
    assert add["Conference-Profile-Name"] == "wideband"
    assert api(inb, "conference list") == (
        "+OK Conference roomWB (1 member rate: 16000 flags: running|answered|enforce_min|dynamic|"
        f"exit_sound|enter_sound|json_status)\n1;loopback/wb1-b;{member.b_uuid};;0000000000;"
        "hear|speak|floor;0;0;100\n")


def test_api_words_and_room_names_as_freeswitch_reads_them(sim, daemon):
    """`conference <name> ...` words split as on 1.10.12 (tests/fs/test_room_names_real.py):
    `'...'` groups, double quotes do not, `\\'` is a quote; `list` is every room's list until
    a room `list` lives, then that room's."""
    inb = inbound(sim.inbound_address)
    assert api(inb, "conference list count") == "+OK No active conferences.\n"
    join(inb, daemon, "w1", "My Conf Room@default")
    join(inb, daemon, "w2", "q'x@default")
    wait_action(inb, "add-member", member_id="2")
    assert api(inb, "conference 'My Conf Room' count") == "1"
    assert api(inb, 'conference "My Conf Room" count') == '-ERR Conference "My not found\n'
    assert api(inb, "conference My Conf Room count") == "-ERR Conference My not found\n"
    assert api(inb, "conference q\\'x count") == "1"
    assert api(inb, "conference list count").startswith("+OK Conference ")
    join(inb, daemon, "w3", "list@default")
    wait_action(inb, "add-member", member_id="3")
    assert api(inb, "conference list count") == "1"
