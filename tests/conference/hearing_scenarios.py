"""`<Conference>` rooms through the daemon, who hears whom asserted from audio.

Run on the embedded FreeSWITCH (test_hearing_scenarios.py) and on a real one
(tests/fs/test_hearing_real.py). Each caller's document joins one room; once every caller has
entered, each plays its own tone and records what it receives (hearing.py). The scene carries
`record_dir` and `time_scale` (1.0 on a real FreeSWITCH).
"""

from __future__ import annotations

import time

from conference.hearing import Party, _written, everyone_but, heard, measure
from conference.loudness import loudness, spoken_ms
from conference.scenarios import doc, room
from conference.scene import WAIT_S, Scene


def _join(scene: Scene, name: str, attributes: dict[str, str]):
    """One caller per (To, Conference attributes); every one entered; (callers, enters)."""
    callers = [scene.call(to, doc(name, extra)) for to, extra in attributes.items()]
    enters = [scene.entered(caller) for caller in callers]
    return callers, enters


def muted_member_is_heard_by_nobody(scene: Scene) -> None:
    """muted="true": the muted caller hears the two others; nobody hears the muted caller."""
    name = room("hear-muted")
    callers, _ = _join(scene, name, {"7001": "", "7002": 'muted="true"', "7003": ""})
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == everyone_but(["7001", "7002", "7003"], "7002"), str(hearing)
    finally:
        scene.leave(callers)


def relate_through_the_conference_api(scene: Scene) -> None:
    """`relate <3> <1> nohear` sent to the daemon's room: caller 3 hears silence at caller 1's
    tone and caller 2's at full level; callers 1 and 2 hear everyone."""
    name = room("hear-relate")
    callers, enters = _join(scene, name, {"7101": "", "7102": "", "7103": ""})
    try:
        # the room as FreeSWITCH names it, from the member's own channel
        fs_room = scene.api(f"uuid_getvar {enters[2]['CallUUID']} conference_name").strip()
        first, third = enters[0]["ConferenceMemberID"], enters[2]["ConferenceMemberID"]
        reply = scene.api(f"conference {fs_room} relate {third} {first} nohear")
        assert reply == f"+OK {third}->{first} nohear set\n"
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"7101": {"7102", "7103"}, "7102": {"7101", "7103"},
                                  "7103": {"7102"}}, str(hearing)
        assert hearing.levels["7103"]["7101"] < -40, str(hearing)
        assert -10.6 < hearing.levels["7103"]["7102"] < -9.8, str(hearing)
    finally:
        scene.leave(callers)


def waiting_member_hears_the_wait_sound_until_the_room_starts(scene: Scene) -> None:
    """startConferenceOnEnter="false" with a waitSound document playing a 650 Hz sine: the
    waiting member hears it (measured as a further column); once a starting member enters, the
    two hear each other and the wait sound has stopped."""
    scene.app.documents["/docs/wait"] = "<Response><Play>{base}/tones/650.wav</Play></Response>"
    name = room("hear-wait")
    music = {"wait": 650}
    waiting = scene.call("7201", doc(name, 'startConferenceOnEnter="false" '
                                           'waitSound="{base}/docs/wait"'))
    scene.entered(waiting)
    callers = [waiting]
    try:
        hearing = _until(scene, [waiting], {"7201": {"wait"}}, music)
        starter = scene.call("7202", doc(name))
        scene.entered(starter)
        callers.append(starter)
        hearing = _until(scene, callers, {"7201": {"7202"}, "7202": {"7201"}}, music)
        assert hearing.levels["7201"]["wait"] < -40, str(hearing)
    finally:
        scene.leave(callers)


def spoken_enter_and_exit_sounds_are_heard(scene: Scene) -> None:
    """enterSound and exitSound as <Speak> documents: FreeSWITCH 1.10.12 has no tts:// file
    format, so each is the room's `say:`; the member already in hears speech when the second
    enters and again when it leaves (each recorded on the first member's phone over 4 s of
    its own media)."""
    name = room("hear-say")
    scene.app.documents["/docs/hello"] = (
        "<Response><Speak>Hello, a new caller joins the conference</Speak></Response>")
    scene.app.documents["/docs/bye"] = (
        "<Response><Speak>Goodbye, a caller has left the conference</Speak></Response>")
    first = scene.call("7301", doc(name))
    scene.entered(first)
    scene.record_dir.mkdir(parents=True, exist_ok=True)
    entering = _recording(scene, first, "enter")
    second = scene.call("7302", doc(name, 'enterSound="{base}/docs/hello" '
                                          'exitSound="{base}/docs/bye"'))
    scene.entered(second)
    _stop(scene, first, entering)
    leaving = _recording(scene, first, "exit")
    scene.hang_up(second)
    scene.hung_up(second)
    _stop(scene, first, leaving)
    try:
        for path in (entering, leaving):
            assert spoken_ms(path) >= 1000, (path.name, loudness(path))
    finally:
        scene.hang_up(first)
        scene.hung_up(first)


def _recording(scene: Scene, caller, tag: str):
    path = scene.record_dir / f"{tag}-{caller.a_leg}.wav"
    for command in (f"uuid_setvar {caller.a_leg} RECORD_READ_ONLY true",
                    f"uuid_record {caller.a_leg} start {path}"):
        assert scene.api(command).startswith("+OK"), command
    return path


def _stop(scene: Scene, caller, path, ms: int = 4000) -> None:
    """After `ms` of the caller's own media (a silent playback on its phone, timed by it)."""
    assert scene.api(f"uuid_setvar {caller.a_leg} playback_ms").startswith("+OK")
    assert scene.api(f"uuid_broadcast {caller.a_leg} silence_stream://{ms} aleg").startswith("+OK")
    scene.wait(f"{ms} ms of media", lambda: scene.api(f"uuid_getvar {caller.a_leg} playback_ms")
               .strip() not in ("", "_undef_"), timeout=10 + ms / 1000 * scene.time_scale)
    assert scene.api(f"uuid_record {caller.a_leg} stop {path}").startswith("+OK")
    scene.wait("the recording", lambda: _written(path))


def spoken_wait_sound_loops_until_the_room_starts(scene: Scene) -> None:
    """startConferenceOnEnter="false" with a waitSound of a Speak: FreeSWITCH 1.10.12 cannot
    speak a room's music, so the room plays it to the waiting member (member plays: `say:`
    then a marker); the member hears speech, and it loops; once a starting member enters the
    music stops and the two hear each other."""
    scene.app.documents["/docs/speak"] = (
        "<Response><Speak>Please hold the line, thanks</Speak></Response>")
    name = room("hear-wait-say")
    waiting = scene.call("7401", doc(name, 'startConferenceOnEnter="false" '
                                           'waitSound="{base}/docs/speak"'))
    entered = scene.entered(waiting)
    callers = [waiting]
    try:
        fs_room = scene.api(f"uuid_getvar {entered['CallUUID']} conference_name").strip()
        hearing = scene.hearing(callers)
        assert spoken_ms(hearing.paths["7401"]) >= 1000, loudness(hearing.paths["7401"])
        scene.wait("the spoken wait music looped", lambda: len([
            e for e in scene.room_events(fs_room, "play-file-member-done")
            if (e.get("play_id") or "").startswith("w")]) >= 2)
        said = [e.get("File") for e in scene.room_events(fs_room, "play-file-member")]
        assert "say:#slt#Please hold the line, thanks" in said, said
        starter = scene.call("7402", doc(name))
        scene.entered(starter)
        callers.append(starter)
        hearing = _until(scene, callers, {"7401": {"7402"}, "7402": {"7401"}}, {})
    finally:
        scene.leave(callers)


def _until(scene: Scene, callers, expected, music, tries: int = 3):
    """Measure until the callers hear `expected` (a state the callbacks announce may reach
    the audio a moment later: the wait sound is fetched first), at least `tries` times and
    for up to WAIT_S of wall time: on the embedded FreeSWITCH a measurement lasts 80 ms, and on
    a loaded machine fetching the wait sound took longer than three of them; the last matrix
    otherwise."""
    deadline = time.monotonic() + WAIT_S
    done = 0
    while True:
        hearing = measure(scene.api, [Party(c.to, c.a_leg) for c in callers], scene.record_dir,
                          time_scale=scene.time_scale, extra_tones=music)
        done += 1
        if heard(hearing) == expected:
            return hearing
        if done >= tries and time.monotonic() > deadline:
            raise AssertionError(f"expected {expected}, got {heard(hearing)}\n{hearing}")


SCENARIOS = [spoken_enter_and_exit_sounds_are_heard, spoken_wait_sound_loops_until_the_room_starts, muted_member_is_heard_by_nobody, relate_through_the_conference_api,
             waiting_member_hears_the_wait_sound_until_the_room_starts]
