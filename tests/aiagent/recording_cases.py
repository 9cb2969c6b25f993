"""The AI participant recorded like any participant, the same on the embedded FreeSWITCH
(tests/aiagent/test_mpc_ai.py) and a real one (tests/fs/test_ai_mpc_real.py): an MPC recorded
with recordCoachVoice="false" holds the voice of an AI the whole room hears and not that of a
coaching AI (docs/ai-agent.md, "Recording"); recordParticipantTrack on the AI holds its voice."""

from __future__ import annotations

from conference.scene import Scene
from mpc.hearing_scenarios import _join, settled
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
        scene.leave(hosts + [customer, agent])
        for service in (speaker, coach):
            service.stop()
    (completed,) = wait_recording(scene, name, "MPCRecordingCompleted")
    scene.flush()
    mpc_file = file_of(scene, completed)
    assert _level(mpc_file, AI_HZ) > PRESENT, _level(mpc_file, AI_HZ)
    assert _level(mpc_file, COACH_HZ) < ABSENT, _level(mpc_file, COACH_HZ)
    ais = {j["MemberID"] for j in joins if j["ParticipantRole"] == "ai-agent"}

    def ai_tracks():
        return [h for h in scene.app.of("/rec")
                if h.get("EventName") == "ParticipantRecordingCompleted" and h["MemberID"] in ais]

    # the track's own recording ends (and calls back) on its own, maybe after the MPC's did: a
    # loaded CI run had it after the test's flush
    (own,) = scene.wait("the AI's ParticipantRecordingCompleted", ai_tracks)
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


def ai_audio_events(scene: Scene, record_dir) -> None:
    """participant-audio-events: ParticipantAudioStart when the service's playAudio begins to
    play into the room, ParticipantAudioStop when it ran out, and again for a second one cut
    by clearAudio; with the AI's MemberID and role; none for the humans (their talking is
    ParticipantSpeakStart/Stop)."""
    import base64

    from aiagent.stream_cases import tone

    name = mpc_name("ai-audio")
    groups = 'statusCallbackEvents="participant-state-changes,participant-audio-events"'
    customer, agent = _join(scene, name, {"6801": ("Customer", groups + ' stayAlone="true"'),
                                          "6802": ("Agent", groups + ' stayAlone="true"')})
    service = Service()
    host = None
    try:
        host = scene.call("6803", _ai_doc(name, service, 'coachMode="false"'))
        joins = wait_event(scene, name, "ParticipantJoin", 3)
        scene.wait("the service got start", lambda: service.of("start"))
        settled(scene, name)
        (ai,) = [j for j in joins if j["ParticipantRole"] == "ai-agent"]

        def audio_events():
            return [e for e in scene.app.of("/mpc") if e.get("MPCName") == name
                    and e["EventName"].startswith("ParticipantAudio")]

        service.send(do="play", payload=base64.b64encode(tone(AI_HZ, 400, 8000)).decode(),
                     content_type="audio/x-l16", rate=8000)
        scene.wait("start and stop", lambda: len(audio_events()) >= 2)
        service.send(do="play", payload=base64.b64encode(tone(AI_HZ, 5000, 8000)).decode(),
                     content_type="audio/x-l16", rate=8000)
        scene.wait("the second start", lambda: len(audio_events()) >= 3)
        service.send(do="clear")
        scene.wait("the second stop", lambda: len(audio_events()) >= 4)
        scene.flush()
        got = audio_events()
        assert [e["EventName"] for e in got] == [
            "ParticipantAudioStart", "ParticipantAudioStop"] * 2, got
        assert {e["MemberID"] for e in got} == {ai["MemberID"]}, got
        assert {e["ParticipantRole"] for e in got} == {"ai-agent"}, got
    finally:
        scene.leave([c for c in (host, customer, agent) if c is not None])
        service.stop()


SCENARIOS.append(ai_audio_events)
