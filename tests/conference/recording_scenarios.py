"""`<Conference>` recording scenarios, the recording's content asserted from its audio.

Written once, run on the embedded FreeSWITCH (test_recording_scenarios.py) and on a real one
(tests/fs/test_conference_real.py).
"""

from __future__ import annotations

from pathlib import Path

from conference.scenarios import doc, room
from conference.scene import Scene
from plivoxml_fs.testing import HEARS_DBFS, read_wav, tone_levels

#: Media ms of each tone a caller says into the room.
TONE_MS = 2000
#: How far (ms) the file's length may be from the media time recorded, as the room's events
#: time it: the recorder writes one frame per 20 ms tick, and a pause takes effect on the next.
SLACK_MS = 250


def _say(scene: Scene, caller, hz: int) -> None:
    """The caller says a `hz` tone for TONE_MS into the room; returns once it has ended."""
    scene.api(f"uuid_setvar {caller.a_leg} playback_ms")
    reply = scene.api(f"uuid_broadcast {caller.a_leg} tone_stream://%({TONE_MS},0,{hz}) aleg")
    assert reply.startswith("+OK"), reply
    scene.wait(f"{caller.to}'s {hz} Hz tone to end", lambda: scene.api(
        f"uuid_getvar {caller.a_leg} playback_ms").strip() not in ("", "_undef_"))


def _at_ms(event) -> int:
    return int(event.get("Event-Date-Timestamp")) // 1000


def _actions(scene: Scene, name: str) -> list[str]:
    """The room's recording events, in order."""
    return [e.get("Action") for e in list(scene.events) if e.name == "CUSTOM"
            and e.get("Conference-Name") == name and "recording" in (e.get("Action") or "")]


def record_when_alone_false_pauses_while_one_is_left(scene: Scene) -> None:
    """recordWhenAlone="false": b's entry (two members) starts the recording; b leaves and it
    pauses (pause-recording); c enters and it resumes (resume-recording). The WAV holds what a
    said with b and with c in the room and nothing of what a said alone, and it lasts the time
    recorded, pauses left out; the record callback (to b, who started it) gives that length
    as RecordingDurationMs, FreeSWITCH's Milliseconds-Elapsed. a leaving c alone pauses it
    again until the room ends."""
    name = room("recpause")
    alone, two, three = 500, 800, 1200
    a = scene.call("1811", doc(name, 'record="true" recordWhenAlone="false" '
                                     'recordFileFormat="wav" hangupOnStar="true"', "<Hangup/>"))
    scene.entered(a)
    b = scene.call("1812", '<Response><Conference callbackUrl="{base}/cb2" hangupOnStar="true">'
                           f"{name}</Conference><Hangup/></Response>")
    enter_b = scene.entered(b, "/cb2")
    (start,) = scene.wait("start-recording", lambda: scene.room_events(name, "start-recording"))
    _say(scene, a, two)
    scene.dtmf(b, "*")
    scene.hung_up(b)
    (pause,) = scene.wait("pause-recording", lambda: scene.room_events(name, "pause-recording"))
    _say(scene, a, alone)
    c = scene.call("1813", doc(name, 'hangupOnStar="true"', "<Hangup/>"))
    scene.entered(c)
    (resume,) = scene.wait("resume-recording",
                           lambda: scene.room_events(name, "resume-recording"))
    _say(scene, a, three)
    for caller in (a, c):
        scene.dtmf(caller, "*")
        scene.hung_up(caller)
    (record,) = scene.wait("the record callback", lambda: [
        h for h in scene.app.of("/cb2") if h.get("ConferenceAction") == "record"])
    (stop,) = scene.wait("stop-recording", lambda: scene.room_events(name, "stop-recording"))
    path = Path(start.get("Path"))
    assert path.name == record["RecordUrl"].rsplit("/", 1)[1]
    assert (record["CallUUID"], record["RecordingID"]) == (enter_b["CallUUID"],
                                                           enter_b["RecordingID"])
    # a's leaving leaves c alone: paused again, until the room ends
    assert _actions(scene, name) == ["start-recording", "pause-recording", "resume-recording",
                                     "pause-recording", "stop-recording"]

    samples, rate = read_wav(path)
    file_ms = len(samples) * 1000 // rate
    assert abs(int(record["RecordingDurationMs"]) - file_ms) <= 20
    assert record["RecordingDurationMs"] == stop.get("Milliseconds-Elapsed")
    (_, last_pause) = scene.room_events(name, "pause-recording")
    recorded_ms = (_at_ms(pause) - _at_ms(start)) + (_at_ms(last_pause) - _at_ms(resume))
    assert abs(file_ms - recorded_ms) <= SLACK_MS, (file_ms, recorded_ms)
    assert _at_ms(resume) - _at_ms(pause) >= TONE_MS  # the pause held a's lone tone

    levels = tone_levels(samples, rate, (alone, two, three))
    assert levels[two] >= HEARS_DBFS and levels[three] >= HEARS_DBFS, levels
    assert levels[alone] < -40, levels
