"""Issue 11's "Bad input" through the daemon, on the embedded FreeSWITCH (test_bad_input.py)
and a real one (tests/fs/test_mpc_real.py): sound URLs with their methods, a failing one, a
participant hanging up while held or before the start, a supervisor whose agent leaves. Each
checks that every status callback came, numbered 1..n in order."""

from __future__ import annotations

import contextlib
import logging

from conference.hearing import _written as written
from conference.loudness import loudness, spoken_ms
from conference.scene import WAIT_S, Scene

from mpc.hearing_scenarios import _join, heard, settled, tone_wav
from mpc.scenarios import doc, events, fs_room, mpc_name, names, wait_event


@contextlib.contextmanager
def logged(level: int = logging.INFO):
    """The daemon's log lines at `level` and above while the block runs."""
    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    logger, handler = logging.getLogger("plivoxml_fs"), Keep(level)
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old or level))
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def in_order(scene: Scene, name: str) -> list[dict]:
    scene.flush()
    got = events(scene, name)
    assert [int(e["SequenceNumber"]) for e in got] == list(range(1, len(got) + 1)), got
    return got


def sound_urls_play_with_their_methods(scene: Scene) -> None:
    """enterSound as a <Play> document fetched with POST, exitSound as audio fetched with GET:
    FreeSWITCH plays each to the room when the customer enters and leaves; a third caller's
    failing exitSound is one WARNING naming it, and that caller joins all the same."""
    name = mpc_name("sounds")
    scene.app.audio["/enter.wav"] = tone_wav(1700, seconds=1)
    scene.app.audio["/exit.wav"] = tone_wav(2300, seconds=1)
    scene.app.documents["/enter"] = "<Response><Play>{base}/enter.wav</Play></Response>"
    agent = scene.call("5801", doc(name, "Agent", 'stayAlone="true" enterSound="none" '
                                   'exitSound="none"'))
    wait_event(scene, name, "ParticipantJoin")
    customer = scene.call("5802", doc(name, "Customer", 'enterSound="{base}/enter" '
                                      'enterSoundMethod="POST" exitSound="{base}/exit.wav"'))
    wait_event(scene, name, "ParticipantJoin", 2)
    room = fs_room(scene, name)

    def played(file: str):
        return [e for e in scene.room_events(room, "play-file-done")
                if file in (e.get("File") or "")]

    scene.wait("the enter sound played", lambda: played("/enter.wav"))
    assert [h.method for h in scene.app.hits if h.path == "/enter"] == ["POST"]
    assert "GET" in [h.method for h in scene.app.hits if h.path == "/exit.wav"]
    with logged(logging.WARNING) as lines:
        third = scene.call("5803", doc(name, "Customer", 'exitSound="{base}/missing"'))
        wait_event(scene, name, "ParticipantJoin", 3)
    warned = [r.getMessage() for r in lines if "exitSound" in r.getMessage()]
    assert len(warned) == 1 and "/missing" in warned[0] and name in warned[0], warned
    scene.hang_up(customer)
    scene.hung_up(customer)
    scene.wait("the exit sound played", lambda: played("/exit.wav"))
    for caller in (third, agent):
        scene.hang_up(caller)
        scene.hung_up(caller)
    wait_event(scene, name, "MPCEnd")
    in_order(scene, name)


def held_participant_hangs_up(scene: Scene) -> None:
    """A customer held at join hangs up: its ParticipantExit (Participant Call Hangup); the
    agent (stayAlone) stays; its hangup then ends the MPC (1000)."""
    name = mpc_name("heldgone")
    agent = scene.call("5811", doc(name, "Agent", 'stayAlone="true"'))
    customer = scene.call("5812", doc(name, "Customer", 'hold="true"'))
    joins = wait_event(scene, name, "ParticipantJoin", 2)
    scene.hang_up(customer)
    scene.hung_up(customer)
    (exit_,) = wait_event(scene, name, "ParticipantExit")
    held = [j for j in joins if j["ParticipantRole"] == "Customer"][0]
    assert exit_["MemberID"] == held["MemberID"]
    assert exit_["ParticipantExitCause"] == "Participant Call Hangup"
    assert "MPCEnd" not in names(scene, name)
    scene.hang_up(agent)
    scene.hung_up(agent)
    end = wait_event(scene, name, "MPCEnd")[0]
    assert end["MPCTerminationCauseCode"] == "1000"
    assert [e["EventName"] for e in in_order(scene, name)][-3:] == [
        "ParticipantExit", "ParticipantExit", "MPCEnd"]


def waiting_participants_hang_up_before_the_start(scene: Scene) -> None:
    """waitForAgent, no agent: a waiting customer hangs up (its exit), the MPC goes on
    waiting (the other has stayAlone); the last one's hangup ends it with 1000; it never
    started."""
    name = mpc_name("waitgone")
    wait = 'waitForAgent="true" stayAlone="true"'
    first = scene.call("5821", doc(name, "Customer", wait))
    second = scene.call("5822", doc(name, "Customer", wait))
    wait_event(scene, name, "ParticipantJoin", 2)
    scene.hang_up(first)
    scene.hung_up(first)
    (exit_,) = wait_event(scene, name, "ParticipantExit")
    assert exit_["ParticipantExitCause"] == "Participant Call Hangup"
    assert len(scene.members(fs_room(scene, name))) == 1
    scene.hang_up(second)
    scene.hung_up(second)
    end = wait_event(scene, name, "MPCEnd")[0]
    assert end["MPCTerminationCause"] == "No Active Participants"
    got = in_order(scene, name)
    assert "MPCStart" not in [e["EventName"] for e in got]


def supervisor_whose_agent_leaves(scene: Scene) -> None:
    """A coaching supervisor's agent hangs up: one INFO line naming the MPC and the
    supervisor; the MPC goes on; the supervisor still hears the customer and is still not
    heard by it (a clean state: nothing is left related to the agent who left)."""
    name = mpc_name("supnoagent")
    callers = _join(scene, name, {"6601": ("Agent", ""), "6602": ("Customer", ""),
                                  "6603": ("Supervisor", 'coachMode="true" stayAlone="true"')})
    agent, customer, supervisor = callers
    with logged(logging.INFO) as lines:
        scene.hang_up(agent)
        scene.hung_up(agent)
        wait_event(scene, name, "ParticipantExit")
        settled(scene, name)
    said = [r.getMessage() for r in lines if "coaches no agent" in r.getMessage()]
    assert len(said) == 1 and name in said[0], said
    rest = [customer, supervisor]
    try:
        hearing = scene.hearing(rest)
        assert heard(hearing) == {"6602": set(), "6603": {"6602"}}, str(hearing)
        assert "MPCEnd" not in names(scene, name)
    finally:
        scene.leave(rest)
    wait_event(scene, name, "MPCEnd")
    in_order(scene, name)


def spoken_enter_sound_is_heard(scene: Scene) -> None:
    """enterSound as a <Speak> document: FreeSWITCH 1.10.12 has no tts:// file format, so it
    is the room's `say:`; the agent already in hears speech when the customer enters
    (recorded on the agent's phone, over 4 s of media timed by its own silent playback)."""
    name = mpc_name("saysound")
    scene.app.documents["/hello"] = (
        "<Response><Speak>Hello, a customer joins the call</Speak></Response>")
    agent = scene.call("5831", doc(name, "Agent", 'stayAlone="true"'))
    wait_event(scene, name, "ParticipantJoin")
    settled(scene, name)
    path = scene.record_dir / f"enter-{agent.a_leg}.wav"
    scene.record_dir.mkdir(parents=True, exist_ok=True)
    for command in (f"uuid_setvar {agent.a_leg} RECORD_READ_ONLY true",
                    f"uuid_setvar {agent.a_leg} playback_ms",
                    f"uuid_record {agent.a_leg} start {path}"):
        assert scene.api(command).startswith("+OK"), command
    customer = scene.call("5832", doc(name, "Customer", 'enterSound="{base}/hello"'))
    wait_event(scene, name, "ParticipantJoin", 2)
    assert scene.api(f"uuid_broadcast {agent.a_leg} silence_stream://4000 aleg").startswith("+OK")
    scene.wait("4 s of media", lambda: scene.api(f"uuid_getvar {agent.a_leg} playback_ms")
               .strip() not in ("", "_undef_"), timeout=WAIT_S + 4 * scene.time_scale)
    assert scene.api(f"uuid_record {agent.a_leg} stop {path}").startswith("+OK")
    scene.wait("the recording", lambda: written(path))
    assert spoken_ms(path) >= 1000, loudness(path)
    for caller in (customer, agent):
        scene.hang_up(caller)
        scene.hung_up(caller)
    wait_event(scene, name, "MPCEnd")
    in_order(scene, name)


SCENARIOS = [spoken_enter_sound_is_heard, sound_urls_play_with_their_methods, held_participant_hangs_up,
             waiting_participants_hang_up_before_the_start, supervisor_whose_agent_leaves]
