"""`<MultiPartyCall>` recording through the daemon, asserted from the recording's audio and the
recording callbacks, on the embedded FreeSWITCH (test_recording.py) and a real one
(tests/fs/test_mpc_recording_real.py). The scene carries `record_dir` and `time_scale`.

Every caller plays its own tone (conference/hearing.py); the recording is read back from the
daemon's recordings_dir by the name its RecordingURL ends with, and each tone's level in it is
measured with the Goertzel helpers of plivoxml_fs.testing.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

from conference.hearing import heard
from conference.scene import Scene
from conference.transcription_scenarios import SENTENCE, TRANSCRIBED_S, say_file

from mpc.hearing_scenarios import _join, settled
from mpc.scenarios import doc, events, mpc_name
from plivoxml_fs.testing import TONES_HZ, hearing_matrix

#: A tone at the level FreeSWITCH mixes it (-10.2 dBFS), and a tone absent from a file.
FULL, ABSENT = (-10.8, -9.6), -40
#: One 20 ms frame at a pause edge may leak (recorder_cases.PAUSED_DBFS).
PAUSED = -25
REC = 'recordingCallbackUrl="{base}/rec" recordFileFormat="wav" record="true"'


def recording_events(scene: Scene, name: str) -> list[dict]:
    return [h for h in scene.app.of("/rec") if h.get("MPCName") == name]


def wait_recording(scene: Scene, name: str, event: str, count: int = 1) -> list[dict]:
    return scene.wait(f"{count} {event} of {name}", lambda: (
        found if len(found := [e for e in recording_events(scene, name)
                               if e["EventName"] == event]) >= count else None))


def file_of(scene: Scene, hook: dict) -> Path:
    name = hook["RecordingURL"].rsplit("/", 1)[1]
    return Path(scene.daemon.settings.recordings_dir) / name


def levels(path: Path, tones: dict[str, int]) -> dict[str, float]:
    return hearing_matrix({"file": path}, tones).levels["file"]


def seconds_of(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def _tones(callers) -> dict[str, int]:
    """The tone conference/hearing.py's measure gives each caller, in the order given."""
    return {c.to: hz for c, hz in zip(callers, TONES_HZ, strict=False)}


def _call_centre(scene: Scene, coach_voice: str):
    name = mpc_name("rec-centre")
    scene.app.documents["/start"] = '<Response><Play>{base}/sounds/chime.wav</Play></Response>'
    rec = REC + coach_voice + ' startRecordingAudio="{base}/start"'
    # the MPC (and its recording, and the start sound) starts when the supervisor joins, all
    # three in: joined together, the customer's join alone could start it, and the sound then
    # reached only those in the room at that instant
    waiting = ' stayAlone="true" startMpcOnEnter="false"'
    callers = _join(scene, name, {"7001": ("Customer", rec + waiting),
                                  "7002": ("Agent", rec + waiting)})
    callers += _join(scene, name, {"7003": ("Supervisor", rec + ' coachMode="true"')})
    wait_recording(scene, name, "MPCRecordingInitiated")
    settled(scene, name)
    try:
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"7001": {"7002"}, "7002": {"7001", "7003"},
                                  "7003": {"7001", "7002"}}, str(hearing)
    finally:
        scene.leave(callers)
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    scene.flush()
    return name, callers, completed


def _assert_callbacks(scene: Scene, name: str, expected: list[str]) -> list[dict]:
    got = recording_events(scene, name)
    assert [e["EventName"] for e in got] == expected, got
    assert [int(e["SequenceNumber"]) for e in got] == list(range(1, len(got) + 1)), got
    assert len({e["MPCUUID"] for e in got}) == 1 and len({e["RecordingUUID"] for e in got}) == 1
    for hook in got:
        assert hook["RecordingFormat"] == "wav" and hook["RecordingURL"].endswith(".wav")
        assert len(hook["EventTimestamp"]) == 25 and hook["EventTimestamp"].endswith("+00:00")
    return got


def recording_without_the_coach_voice(scene: Scene) -> None:
    """A call centre recorded with recordCoachVoice="false": customer and agent at full level
    in the file, the coaching supervisor not at all; the callers hear as coach mode says; the
    start sound (a member play each) reached every participant and is not in the file;
    MPCRecordingInitiated then MPCRecordingCompleted, numbered 1, 2, with a duration that is
    the file's."""
    name, callers, completed = _call_centre(scene, ' recordCoachVoice="false"')
    got = _assert_callbacks(scene, name, ["MPCRecordingInitiated", "MPCRecordingCompleted"])
    path = file_of(scene, completed)
    found = levels(path, _tones(callers))
    assert FULL[0] < found["7001"] < FULL[1] and FULL[0] < found["7002"] < FULL[1], found
    assert found["7003"] < ABSENT, found
    assert abs(seconds_of(path) - int(completed["RecordingDuration"])) <= 1, (
        seconds_of(path), completed)
    assert completed["RecordingStartTime"] == got[0]["RecordingStartTime"] != ""
    assert completed["RecordingEndTime"] >= completed["RecordingStartTime"]
    fs_room = f"mpc-{completed['MPCUUID']}"
    chimes = [e for e in scene.room_events(fs_room, "play-file-member-done")
              if "chime.wav" in (e.get("File") or "")]
    assert len({e.get("Member-ID") for e in chimes}) == 3, chimes


def recording_with_the_coach_voice(scene: Scene) -> None:
    """recordCoachVoice absent (as true): the supervisor is in the recording too."""
    name, callers, completed = _call_centre(scene, "")
    _assert_callbacks(scene, name, ["MPCRecordingInitiated", "MPCRecordingCompleted"])
    found = levels(file_of(scene, completed), _tones(callers))
    assert all(FULL[0] < found[c.to] < FULL[1] for c in callers), found


def _say(scene: Scene, caller, hz: int, ms: int) -> None:
    """`caller` says a tone of `ms` into its call; returns once it has played."""
    assert scene.api(f"uuid_setvar {caller.a_leg} playback_ms").startswith("+OK")
    tone = f"tone_stream://%({ms},0,{hz})"
    assert scene.api(f"uuid_broadcast {caller.a_leg} {tone} aleg").startswith("+OK")
    scene.wait(f"{caller.to}'s tone", lambda: scene.api(
        f"uuid_getvar {caller.a_leg} playback_ms").strip() not in ("", "_undef_"),
        ms / 1000 * scene.time_scale + 10)


#: The tones of the pause scenario: before the pause, while paused, after the resume.
BEFORE_HZ, DURING_HZ, AFTER_HZ = 800, 2300, 1200


def recording_waits_for_two_and_pauses_at_one(scene: Scene) -> None:
    """recordMinMemberCount="2": one participant alone is not recorded (no callback); the
    second starts it; back to one it pauses (what the one says then is not in the file),
    two again resume it; the end completes it."""
    name = mpc_name("rec-two")
    rec = REC + ' recordMinMemberCount="2" stayAlone="true"'
    callers = _join(scene, name, {"7101": ("Customer", rec)})
    try:
        assert recording_events(scene, name) == []
        callers += _join(scene, name, {"7102": ("Agent", rec)})
        wait_recording(scene, name, "MPCRecordingInitiated")
        settled(scene, name)
        _say(scene, callers[1], BEFORE_HZ, 2000)
        scene.leave([callers.pop()])
        wait_recording(scene, name, "MPCRecordingPaused")
        settled(scene, name)
        _say(scene, callers[0], DURING_HZ, 3000)
        callers += _join(scene, name, {"7103": ("Agent", rec)})
        wait_recording(scene, name, "MPCRecordingResumed")
        settled(scene, name)
        _say(scene, callers[1], AFTER_HZ, 2000)
    finally:
        scene.leave(callers)
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    scene.flush()
    # the two hang up one after the other: the first leaves one (stayAlone) participant, which
    # pauses the recording again, then the last one's exit ends the MPC
    _assert_callbacks(scene, name, ["MPCRecordingInitiated", "MPCRecordingPaused",
                                    "MPCRecordingResumed", "MPCRecordingPaused",
                                    "MPCRecordingCompleted"])
    path = file_of(scene, completed)
    found = levels(path, {"before": BEFORE_HZ, "during": DURING_HZ, "after": AFTER_HZ})
    assert found["before"] > -20 and found["after"] > -20, found
    assert found["during"] < PAUSED, found
    assert abs(seconds_of(path) - int(completed["RecordingDuration"])) <= 1


def participant_track_holds_its_own_voice(scene: Scene) -> None:
    """recordParticipantTrack="true" on the customer: its own file holds its tone only; its
    ParticipantRecordingInitiated / Completed carry its MemberID (the MPC is not recorded)."""
    name = mpc_name("rec-track")
    track = 'recordingCallbackUrl="{base}/rec" recordFileFormat="wav" stayAlone="true"'
    callers = _join(scene, name, {"7201": ("Customer", track + ' recordParticipantTrack="true"'),
                                  "7202": ("Agent", track)})
    scene.wait("the track's start", lambda: [h for h in scene.app.of("/rec")
                                             if h.get("EventName") ==
                                             "ParticipantRecordingInitiated"])
    try:
        scene.hearing(callers)
    finally:
        scene.leave(callers)
    hooks = scene.wait("the track's end", lambda: (
        got if len(got := [h for h in scene.app.of("/rec") if h.get("EventName", "").startswith(
            "ParticipantRecording")]) >= 2 else None))
    scene.flush()
    initiated, completed = hooks
    assert (initiated["EventName"], completed["EventName"]) == (
        "ParticipantRecordingInitiated", "ParticipantRecordingCompleted")
    assert initiated["MemberID"] == completed["MemberID"] != ""
    assert (initiated["SequenceNumber"], completed["SequenceNumber"]) == ("1", "2")
    found = levels(file_of(scene, completed), {"7201": 500, "7202": 800})
    assert found["7201"] > -20 and found["7202"] < ABSENT, found


def one_participant_is_recorded(scene: Scene) -> None:
    """recordMinMemberCount="1" (the default): the first participant alone in the Active MPC
    starts the recording, and its voice is in the file at full level (the recorder member is
    what makes mod_conference mix a lone member)."""
    name = mpc_name("rec-one")
    callers = _join(scene, name, {"7401": ("Customer", REC + ' stayAlone="true"')})
    wait_recording(scene, name, "MPCRecordingInitiated")
    settled(scene, name)
    try:
        scene.hearing(callers)
    finally:
        scene.leave(callers)
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    scene.flush()
    _assert_callbacks(scene, name, ["MPCRecordingInitiated", "MPCRecordingCompleted"])
    found = levels(file_of(scene, completed), _tones(callers))
    assert FULL[0] < found["7401"] < FULL[1], found


def mp3_by_default(scene: Scene) -> None:
    """record="true" alone: an MP3 file (FreeSWITCH's MPEG frames) as long as its
    RecordingDuration."""
    name = mpc_name("rec-mp3")
    callers = _join(scene, name, {"7301": ("Customer", 'record="true" stayAlone="true" '
                                           'recordingCallbackUrl="{base}/rec"')})
    wait_recording(scene, name, "MPCRecordingInitiated")
    try:
        scene.hearing(callers)
    finally:
        scene.leave(callers)
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    assert completed["RecordingFormat"] == "mp3" and completed["RecordingURL"].endswith(".mp3")
    data = file_of(scene, completed).read_bytes()
    assert data[:2] == b"\xff\xe3", data[:4].hex()
    assert abs(len(data) / 144 * 576 / 8000 - int(completed["RecordingDuration"])) <= 1


#: The content words of SENTENCE ("please call me back after the meeting").
CONTENT_WORDS = ("please", "call", "me", "back", "after", "meeting")


def _energies(scene: Scene, name: str) -> dict[str, int]:
    """{call uuid: energy level} of FreeSWITCH's members of the MPC's room (json_list)."""
    fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
    (conference,) = json.loads(scene.api(f"conference {fs_room} json_list"))
    return {m["uuid"]: int(m["energy"]) for m in conference["members"]}


def transcribed_mpc_recording_has_the_words(scene: Scene, words: int = 3) -> None:
    """A participant asks for transcripts of the recorded MPC: every member's energy gate is
    off in FreeSWITCH (energy 0: the gate would cut each utterance's first sound from the
    recording), and the MPC recording's transcription callback has `words` of the spoken
    sentence's content words."""
    name = mpc_name("rec-tx")
    asks = ' transcript="true" transcriptionUrl="{base}/tx" stayAlone="true"'
    callers = _join(scene, name, {"7501": ("Customer", REC + asks),
                                  "7502": ("Agent", REC + ' stayAlone="true"')})
    wait_recording(scene, name, "MPCRecordingInitiated")
    settled(scene, name)
    try:
        joined = {e["ParticipantCallUUID"] for e in events(scene, name)
                  if e["EventName"] == "ParticipantJoin"}
        assert len(joined) == 2
        scene.wait("both gates off", lambda: all(
            _energies(scene, name).get(uuid) == 0 for uuid in joined))
        say_file(scene, callers[0], SENTENCE)
    finally:
        scene.leave(callers)
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    (posted,) = scene.wait("the transcription callback", lambda: scene.app.of("/tx"),
                           timeout=TRANSCRIBED_S)
    assert posted["error"] == "" and posted["recording_id"] == completed["RecordingUUID"]
    heard_words = posted["transcription"].lower().split()
    assert sum(word in heard_words for word in CONTENT_WORDS) >= words, posted["transcription"]


SCENARIOS = [recording_without_the_coach_voice, recording_with_the_coach_voice,
             recording_waits_for_two_and_pauses_at_one, participant_track_holds_its_own_voice,
             one_participant_is_recorded, mp3_by_default,
             transcribed_mpc_recording_has_the_words]

__all__ = ["SCENARIOS", "doc"]
