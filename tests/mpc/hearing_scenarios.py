"""`<MultiPartyCall>` who-hears-whom from audio (tests/conference/hearing.py), on the embedded
FreeSWITCH (test_hearing.py) and a real one (tests/fs/test_mpc_real.py). The scene carries
`record_dir` and `time_scale`."""

from __future__ import annotations

import io
import math
import wave
from array import array

from conference.hearing import everyone_but, heard
from conference.loudness import loudness, spoken_ms
from conference.scene import Scene

from mpc.scenarios import doc, events, mpc_name, wait_event
from plivoxml_fs.testing import HEARS_DBFS

#: A wait/hold music document: 2 s of silence, looped by the room (what the members hear
#: while waiting is asserted as silence from the others; the loop from FreeSWITCH's events).
MUSIC = "<Response><Wait length=\"2\"/></Response>"


def settled(scene: Scene, name: str) -> None:
    """Wait until the daemon's MPC `name` has every command it sent answered (what it decided
    at the last join is in effect in FreeSWITCH)."""
    def quiet():
        rooms = [r for r in scene.daemon.rooms.owner.rooms() if r.name == name]
        return rooms and not any(r._sent for r in rooms)

    scene.wait(f"MPC {name}'s commands answered", quiet)


def _join(scene: Scene, name: str, parties: dict[str, tuple[str, str]]):
    """One caller per To: (role, attributes); waits for all their ParticipantJoin and for
    the commands these joins made to be answered."""
    before = len([e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"])
    callers = [scene.call(to, doc(name, role, attrs)) for to, (role, attrs) in parties.items()]
    wait_event(scene, name, "ParticipantJoin", before + len(callers))
    settled(scene, name)
    return callers


def waiting_for_an_agent(scene: Scene) -> None:
    """waitForAgent: two customers wait (wait music, looped; they do not hear each other);
    the agent joins: MPCStart, and everyone hears everyone."""
    name = mpc_name("hear-wait")
    scene.app.documents["/music"] = MUSIC
    wait = 'waitForAgent="true" waitMusicUrl="{base}/music" stayAlone="true"'
    customers = _join(scene, name, {"6001": ("Customer", wait), "6002": ("Customer", wait)})
    everyone = list(customers)
    try:
        assert heard(scene.hearing(customers)) == {"6001": set(), "6002": set()}
        fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
        scene.wait("the wait music looped", lambda: len(scene.room_events(
            fs_room, "play-file-member-done")) >= 2)
        everyone.append(scene.call("6003", doc(name, "Agent", wait)))
        wait_event(scene, name, "MPCStart")
        settled(scene, name)
        hearing = scene.hearing(everyone)
        assert heard(hearing) == everyone_but(["6001", "6002", "6003"]), str(hearing)
    finally:
        scene.leave(everyone)


def coach_mode_whispers_to_agents(scene: Scene) -> None:
    """A coaching supervisor is heard by the agent only (also by a customer who joins after
    it: the relate is made at that join); the supervisor hears everyone."""
    name = mpc_name("hear-coach")
    callers = _join(scene, name, {"6101": ("Agent", 'stayAlone="true"'),
                                  "6102": ("Supervisor", 'coachMode="true"')})
    callers += _join(scene, name, {"6103": ("Customer", "")})
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"6101": {"6102", "6103"}, "6102": {"6101", "6103"},
                                  "6103": {"6101"}}, str(hearing)
        sup = [e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
               and e["ParticipantRole"] == "Supervisor"]
        assert sup[0]["ParticipantCoachMode"] == "true"
    finally:
        scene.leave(callers)


def barge_is_heard_by_all(scene: Scene) -> None:
    """coachMode="false": the supervisor is heard by everyone."""
    name = mpc_name("hear-barge")
    callers = _join(scene, name, {"6201": ("Agent", ""), "6202": ("Customer", ""),
                                  "6203": ("Supervisor", 'coachMode="false"')})
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == everyone_but(["6201", "6202", "6203"]), str(hearing)
    finally:
        scene.leave(callers)


def hold_and_mute_at_join(scene: Scene) -> None:
    """hold="true": the held agent neither hears the room nor is heard (it hears its hold
    music); mute="true": the muted customer hears the others, nobody hears it."""
    name = mpc_name("hear-hold")
    scene.app.documents["/music"] = MUSIC
    hold = 'agentHoldMusicUrl="{base}/music" stayAlone="true"'
    callers = _join(scene, name, {"6301": ("Agent", hold + ' hold="true"'),
                                  "6302": ("Agent", hold), "6303": ("Customer", 'mute="true"')})
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"6301": set(), "6302": set(),
                                  "6303": {"6302"}}, str(hearing)
    finally:
        scene.leave(callers)


#: Speak wait music: about 2 s of speech, a space in it (FreeSWITCH's API splits at spaces).
SPOKEN = "<Response><Speak>Please hold the line, thanks</Speak></Response>"


def speak_wait_music_is_heard(scene: Scene) -> None:
    """A waiting customer whose waitMusicUrl is a Speak hears speech (speech-level audio
    for at least a second of the 4 s measured) and it loops: each cycle is a `say:` then a
    marker whose done carries the play id."""
    name = mpc_name("hear-speak")
    scene.app.documents["/speak"] = SPOKEN
    wait = 'waitForAgent="true" waitMusicUrl="{base}/speak" stayAlone="true"'
    callers = _join(scene, name, {"6401": ("Customer", wait)})
    try:
        hearing = scene.hearing(callers)
        assert spoken_ms(hearing.paths["6401"]) >= 1000, loudness(hearing.paths["6401"])
        fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
        scene.wait("the spoken wait music looped", lambda: len([
            e for e in scene.room_events(fs_room, "play-file-member-done")
            if e.get("play_id")]) >= 2)
        said = [e.get("File") for e in scene.room_events(fs_room, "play-file-member")]
        assert "say:#slt#Please hold the line, thanks" in said, said
    finally:
        scene.leave(callers)


#: The hold music tones: each role's its own, no caller's (callers get TONES_HZ[0..3]).
AGENT_HOLD_HZ, CUSTOMER_HOLD_HZ = 2300, 2900


def tone_wav(hz: int, seconds: int = 10, rate: int = 8000) -> bytes:
    """A WAV of one sine at a tone_stream's level (-10.2 dBFS peak)."""
    samples = array("h", (int(10184 * math.sin(2 * math.pi * hz * i / rate))
                          for i in range(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def hold_music_per_role_is_heard(scene: Scene) -> None:
    """Held at join: the Agent hears agentHoldMusicUrl's tone, the Customer
    customerHoldMusicUrl's (each a <Play> of a WAV served over HTTP), neither hears the room
    nor the other's music, nobody hears them; the held Supervisor hears silence. Unhold
    through the room engine (the control API's input): the Agent hears the room again, is
    heard, and its music stops."""
    name = mpc_name("hear-holdmusic")
    for role, hz in (("agent", AGENT_HOLD_HZ), ("customer", CUSTOMER_HOLD_HZ)):
        scene.app.audio[f"/{role}-hold.wav"] = tone_wav(hz)
        scene.app.documents[f"/{role}-hold"] = (
            f"<Response><Play>{{base}}/{role}-hold.wav</Play></Response>")
    music = ('agentHoldMusicUrl="{base}/agent-hold" customerHoldMusicUrl="{base}/customer-hold"'
             ' stayAlone="true"')
    callers = _join(scene, name, {
        "6501": ("Agent", music + ' hold="true"'), "6502": ("Customer", music + ' hold="true"'),
        "6503": ("Supervisor", music + ' hold="true" coachMode="false"'),
        "6504": ("Customer", music)})
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"6501": set(), "6502": set(), "6503": set(), "6504": set()}, (
            str(hearing))
        music_heard = {c.to: (hearing.level_of(c.to, AGENT_HOLD_HZ),
                              hearing.level_of(c.to, CUSTOMER_HOLD_HZ)) for c in callers}
        # heard (HEARS_DBFS; the real room's first member gets a few distorted seconds, see
        # conference/hearing.py), and not the other role's
        assert music_heard["6501"][0] > HEARS_DBFS and music_heard["6501"][1] < -40, music_heard
        assert music_heard["6502"][1] > HEARS_DBFS and music_heard["6502"][0] < -40, music_heard
        assert max(music_heard["6503"]) < -40 and max(music_heard["6504"]) < -40, music_heard
        assert spoken_ms(hearing.paths["6503"]) == 0, loudness(hearing.paths["6503"])
        agent_call = scene.app.of("/answer", "6501")[0]["CallUUID"]
        (room,) = [r for r in scene.daemon.rooms.owner.rooms() if r.name == name]
        agent = room.members[agent_call]
        scene.daemon.rooms.decide(room, lambda now: room.hold(agent.member_id, False, now))
        wait_event(scene, name, "ParticipantUnhold")
        settled(scene, name)
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"6501": {"6504"}, "6502": set(), "6503": set(),
                                  "6504": {"6501"}}, str(hearing)
        assert hearing.level_of("6501", AGENT_HOLD_HZ) < -40, str(hearing)
    finally:
        scene.leave(callers)


SCENARIOS = [waiting_for_an_agent, coach_mode_whispers_to_agents, barge_is_heard_by_all,
             hold_and_mute_at_join, speak_wait_music_is_heard, hold_music_per_role_is_heard]
