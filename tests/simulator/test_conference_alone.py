"""A new room's first member, as mod_conference 1.10.12 greets it (conference_member_add, checked
on a real one: tests/test_freeswitch_live.py): the profile's alone-sound to the room; without
one and with a tts-engine, "You are currently the only person in this conference." to that
member; never the enter sound, which is for the members after it. The daemon warns at start
when its profile would talk (fs/profile_check.py), asking the embedded FreeSWITCH's xml_locate."""

from __future__ import annotations

import logging

import attrs
from waiting import until

from plivoxml_fs.config import Settings
from plivoxml_fs.fs import profile_check
from plivoxml_fs.service import Daemon
from plivoxml_fs.simulator import EmbeddedFreeSwitch
from plivoxml_fs.simulator.conference import ALONE_TEXT
from simulator.conference_helpers import api, inbound, join, wait_action

BEEP = "tone_stream://%(200,0,400)"


def test_first_member_gets_the_alone_sound_and_no_enter_sound(sim, daemon):
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "f1", "roomA", sets=[f"conference_enter_sound={BEEP}"])
    wait_action(inb, "floor-change")
    done = wait_action(inb, "play-file-done")
    assert done["File"] == "silence_stream://20" and done.get("Async") is None
    join(inb, daemon, "f2", "roomA", sets=[f"conference_enter_sound={BEEP}"])
    assert wait_action(inb, "play-file-done")["File"] == BEEP  # the second one's enter sound
    room = sim.conferences.rooms["roomA"]
    heard = [str(r) for r in sim.channel(room.members[1].channel.uuid).history]
    assert f"conference_heard {BEEP} (200 ms)" in heard
    assert heard.count(f"conference_heard {BEEP} (200 ms)") == 1


def test_without_alone_sound_the_tts_speaks_to_the_first_member(sim, daemon):
    default = sim.conferences.profiles["default"]
    sim.conferences.profiles["default"] = attrs.evolve(default, alone_sound=None)
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "t1", "roomT")
    wait_action(inb, "floor-change")
    room = sim.conferences.rooms["roomT"]
    (speech,) = [p for p in room.playbacks if p.member is not None]
    assert speech.source == f"tts://flite|slt|{ALONE_TEXT}" and speech.speech
    assert speech.member is room.members[1]
    join(inb, daemon, "t2", "roomT")
    wait_action(inb, "add-member", member_id="2")
    assert [p for p in room.playbacks if p.member is room.members[2]] == []  # only the first


def test_xml_locate_answers_the_profiles(sim):
    inb = inbound(sim.inbound_address)
    assert profile_check.check(lambda cmd: api(inb, cmd), ["default", "wideband"]) == []
    assert api(inb, "xml_locate configuration configuration name nosuch.conf") == (
        "can't find anything\n")
    sim.conferences.profiles["default"] = attrs.evolve(
        sim.conferences.profiles["default"], alone_sound=None)
    (problem,) = profile_check.check(lambda cmd: api(inb, cmd), ["default"])
    assert "tts-engine and no alone-sound" in problem


def _started(tmp_path, caplog, alone_sound):
    caplog.set_level(logging.WARNING, "plivoxml_fs.fs.profile_check")
    daemon = Daemon(Settings(listen_port=0, metrics_port=0, state_dir=str(tmp_path),
                             answer_url="http://x/a",
                             reconnect_min_s=0.05, reconnect_max_s=0.1))
    daemon.start_server()
    fs = EmbeddedFreeSwitch(socket_address=daemon.address, time_scale=0.05,
                            media_dir=str(tmp_path))
    fs.conferences.profiles["default"] = attrs.evolve(fs.conferences.profiles["default"],
                                                      alone_sound=alone_sound)
    fs.start()
    try:
        daemon.start_inbound(*fs.inbound_address)
        until("the profile check", lambda: daemon.profile_check.ready())
        return daemon.profile_check.value
    finally:
        daemon.stop(drain_timeout_s=1)
        fs.stop()


def test_the_daemon_warns_at_start_when_its_profile_talks(tmp_path, caplog):
    (problem,) = _started(tmp_path, caplog, None)
    assert "'default' has a tts-engine and no alone-sound" in problem
    assert [r.getMessage() for r in caplog.records] == [problem]


def test_the_daemon_says_nothing_of_a_quiet_profile(tmp_path, caplog):
    assert _started(tmp_path, caplog, "silence_stream://20") == []
    assert caplog.records == []


def test_the_alone_sound_plays_again_when_one_member_is_left(sim, daemon):
    """conference_member_del with one member left: the alone-sound again (no leadin); not in a
    mintwo room, which ends instead."""
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "g1", "roomG")
    wait_action(inb, "floor-change")
    assert wait_action(inb, "play-file-done")["File"] == "silence_stream://20"
    join(inb, daemon, "g2", "roomG")
    wait_action(inb, "add-member", member_id="2")
    api(inb, "conference roomG kick 2")
    wait_action(inb, "del-member", member_id="2")
    assert wait_action(inb, "play-file-done")["File"] == "silence_stream://20"
