"""`<Conference>` transcription: real speech said into a recorded room comes back as words.

The caller plays a WAV of flite speaking a known sentence (examples/speech, 8 kHz, made by
scripts/make_speech.sh with the libflite FreeSWITCH's mod_flite uses) into the room; the room's recording is transcribed by the
daemon's default engine (pocketsphinx) and the transcription callback is asserted on the words.
Written once, run on the embedded FreeSWITCH (test_transcription_scenarios.py).
"""

from __future__ import annotations

from pathlib import Path

from conference.scenarios import doc, room
from conference.scene import Scene

SPEECH = Path(__file__).resolve().parents[2] / "examples" / "speech"
#: s1.wav says "please call me back after the meeting" (flite, voice slt); "meeting" is its
#: last word, which a recording that lost the sentence's end would miss.
SENTENCE = SPEECH / "s1.wav"
WORDS = ("back", "after", "meeting")
#: Transcription runs in a worker process at real CPU speed: its callback may take a while.
TRANSCRIBED_S = 90.0


def say_file(scene: Scene, caller, path: Path) -> None:
    """The caller plays `path` into the room; returns once it has ended."""
    scene.api(f"uuid_setvar {caller.a_leg} playback_ms")
    reply = scene.api(f"uuid_broadcast {caller.a_leg} {path} aleg")
    assert reply.startswith("+OK"), reply
    scene.wait(f"{caller.to}'s {path.name} to end", lambda: scene.api(
        f"uuid_getvar {caller.a_leg} playback_ms").strip() not in ("", "_undef_"))


def recorded_room_posts_its_transcription(scene: Scene, fmt: str = "wav",
                                          rate: float = 0.0, enough: int = len(WORDS)) -> dict:
    """A recorded room with transcriptionUrl: after the room ends, the transcription callback
    has the spoken words, no error, the record callback's RecordingID and CallUUID, and the
    recording's duration in seconds; `rate` (the daemon's transcription_rate_per_minute) is
    the transcription_rate, and the charge of a recording under a minute is one minute's.
    `enough`: how many of WORDS must be heard (all of them on the embedded FreeSWITCH, whose
    recording is the WAV itself)."""
    name = room("transcribed")
    a = scene.call("1821", doc(name, f'record="true" recordFileFormat="{fmt}" '
                                     'transcriptionType="auto" transcriptionUrl="{base}/tx" '
                                     'hangupOnStar="true"', "<Hangup/>"))
    scene.entered(a)
    b = scene.call("1822", doc(name, 'hangupOnStar="true"', "<Hangup/>"))
    scene.entered(b)
    scene.wait("start-recording", lambda: scene.room_events(name, "start-recording"))
    say_file(scene, a, SENTENCE)
    for caller in (a, b):
        scene.dtmf(caller, "*")
        scene.hung_up(caller)
    (record,) = scene.wait("the record callback", lambda: [
        h for h in scene.app.of("/cb") if h.get("ConferenceAction") == "record"])
    (posted,) = scene.wait("the transcription callback", lambda: scene.app.of("/tx"),
                           timeout=TRANSCRIBED_S)
    assert posted["error"] == ""
    words = posted["transcription"].lower().split()
    assert sum(word in words for word in WORDS) >= enough, posted["transcription"]
    assert posted["recording_id"] == record["RecordingID"]
    assert posted["call_uuid"] == record["CallUUID"]
    assert posted["duration"] == record["RecordingDuration"]
    assert 0 < int(record["RecordingDurationMs"]) < 60_000
    assert (posted["transcription_rate"], posted["transcription_charge"]) == (f"{rate:.5f}",
                                                                              f"{rate:.5f}")
    return posted
