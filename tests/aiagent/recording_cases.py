"""The AI participant recorded like any participant, the same on the embedded FreeSWITCH
(tests/aiagent/test_mpc_ai.py) and a real one (tests/fs/test_ai_mpc_real.py): an MPC recorded
with recordCoachVoice="false" holds the voice of an AI the whole room hears and not that of a
coaching AI (docs/ai-agent.md, "Recording"); recordParticipantTrack on the AI holds its voice."""

from __future__ import annotations

from conference.scene import Scene
from mpc.hearing_scenarios import _join, _leave, settled
from mpc.recording_scenarios import REC, file_of, wait_recording
from mpc.scenarios import mpc_name, wait_event

from aiagent.mpc_cases import AI_HZ, _ai_doc, _level, _play_and_record
from aiagent.stream_cases import Service

COACH_HZ = 1300
PRESENT, ABSENT = -25, -40


def ai_is_recorded_and_a_coaching_ai_is_not(scene: Scene, record_dir) -> None:
    name = mpc_name("ai-rec")
    rec = REC + ' recordCoachVoice="false" stayAlone="true"'  # the first one's settings win
    customer, agent = _join(scene, name, {"6701": ("Customer", rec), "6702": ("Agent", rec)})
    wait_recording(scene, name, "MPCRecordingInitiated")
    speaker, coach = Service(), Service()
    hosts = []
    try:
        track = ('recordParticipantTrack="true" recordingCallbackUrl="{base}/rec" '
                 'recordFileFormat="wav"')
        hosts.append(scene.call("6703", _ai_doc(name, speaker, 'coachMode="false" ' + track)))
        hosts.append(scene.call("6704", _ai_doc(name, coach, 'coachMode="true"')))
        joins = wait_event(scene, name, "ParticipantJoin", 4)
        scene.wait("both services got start", lambda: speaker.of("start") and coach.of("start"))
        settled(scene, name)
        _play_and_record(scene, speaker, [], record_dir)
        _play_and_record_hz(scene, coach, record_dir)
    finally:
        _leave(scene, hosts + [customer, agent])
        for service in (speaker, coach):
            service.stop()
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    scene.flush()
    mpc_file = file_of(scene, completed)
    assert _level(mpc_file, AI_HZ) > PRESENT, _level(mpc_file, AI_HZ)
    assert _level(mpc_file, COACH_HZ) < ABSENT, _level(mpc_file, COACH_HZ)
    ais = [j for j in joins if j["ParticipantRole"] == "ai-agent"]
    tracks = [h for h in scene.app.of("/rec")
              if h.get("EventName") == "ParticipantRecordingCompleted"]
    (own,) = [h for h in tracks if h["MemberID"] in {j["MemberID"] for j in ais}]
    track_file = file_of(scene, own)
    assert _level(track_file, AI_HZ) > PRESENT, _level(track_file, AI_HZ)


def _play_and_record_hz(scene: Scene, service: Service, record_dir) -> None:
    import base64

    from aiagent.stream_cases import tone

    before = len(service.of("playedStream"))
    service.send(do="play", payload=base64.b64encode(tone(COACH_HZ, 1500, 8000)).decode(),
                 content_type="audio/x-l16", rate=8000)
    service.send(do="checkpoint", name="coach")
    scene.wait("the coach's audio played", lambda: len(service.of("playedStream")) > before)


SCENARIOS = [ai_is_recorded_and_a_coaching_ai_is_not]
