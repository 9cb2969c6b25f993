"""An AI participant added by the control API (role ai-agent, api/mpc_add.py), driven through
the official Plivo SDK's own request (plivoxml_fs.client.add_ai_agent) with the official
plivo-stream-sdk as the service (tests/aiagent/service.py); written once, run on the embedded
FreeSWITCH in real media time (tests/api/test_mpc_ai_api.py) and on a real one
(tests/fs/test_api_ai_real.py). Audio is measured: the customer's tone decoded from the
service's `media`, the service's `playAudio` in what the phones receive, and the MPC's
recording."""

from __future__ import annotations

import contextlib

import plivo.exceptions as px
import pytest
from aiagent.mpc_cases import AI_HZ, CUSTOMER_HZ, _level, _play_and_record, _tone_to_service
from aiagent.stream_cases import Service
from conference.scene import Scene
from gevent.server import StreamServer
from mpc.hearing_scenarios import _join, settled
from mpc.recording_scenarios import file_of, wait_recording
from mpc.scenarios import events, mpc_name, wait_event

from plivoxml_fs.client import add_ai_agent

EVENTS = ('statusCallbackEvents="mpc-state-changes,participant-state-changes,'
          'add-participant-api-events" stayAlone="true"')
HEARD, UNHEARD = -20, -40


def _body(scene: Scene, url: str, **more) -> dict:
    return {"ai_agent_stream_service_url": url,
            "ai_agent_stream_status_callback_url": f"{scene.app.base}/aistatus",
            "coach_mode": False, **more}


def _ai_join(scene: Scene, name: str, call_uuid: str) -> dict:
    return scene.wait("the AI's join", lambda: [
        e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
        and e.get("ParticipantCallUUID") == call_uuid])[0]


def _participants(client, name: str) -> list:
    """The participants of the account's live MPC `name` ([] while there is none: 404)."""
    try:
        return list(client.multi_party_calls.list_participants(friendly_name=name).objects)
    except (px.ResourceNotFoundError, AttributeError):  # the SDK's 404 of a list: AttributeError
        return []


def _track(scene: Scene, member: str, what: str) -> list[dict]:
    """The ParticipantRecording<what> callbacks of `member`'s own track."""
    return [h for h in scene.app.of("/rec") if h.get("MemberID") == member
            and h.get("EventName") == f"ParticipantRecording{what}"]


def _statuses(scene: Scene) -> list[str]:
    return [h["Status"] for h in scene.app.of("/aistatus")]


def ai_agent_added_by_api(scene: Scene, record_dir) -> None:
    """add participant with role ai-agent: no number is dialled; the daemon's AI joins the MPC
    (ParticipantRole ai-agent, its call uuid the answer's, the stream's callId), the customer's
    tone reaches the service, the service's playAudio is heard by the agent and the customer;
    muted and held by API nobody hears it (held, it hears nothing either), in coach mode by
    API only the agent does; the MPC's
    recording holds its voice; kicked by API its stream stops with its status callback and the
    room goes on."""
    name = mpc_name("api-ai")
    customer, agent = _join(scene, name, {"8901": ("Customer", EVENTS), "8902": ("Agent", EVENTS)})
    service = Service()
    mpcs = scene.client.multi_party_calls
    try:
        answer = add_ai_agent(scene.client, friendly_name=name, **_body(
            scene, f"ws://127.0.0.1:{service.port}/ai",
            ai_agent_stream_extra_headers={"userId": "12345"}, ai_agent_hears="Customer"))
        assert answer.message == "add participant action initiated"
        (call,) = answer.calls
        ai_uuid = call["call_uuid"]
        join = _ai_join(scene, name, ai_uuid)
        assert join["ParticipantRole"] == "ai-agent"
        (initiated,) = wait_event(scene, name, "AddParticipantByAPIActionInitiated")
        (completed,) = wait_event(scene, name, "AddParticipantByAPIActionCompleted")
        assert initiated["RequestUUID"] == completed["RequestUUID"] == answer.request_uuid
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        (start,) = scene.wait("the service got start", lambda: service.of("start"))
        assert start["call_id"] == ai_uuid and start["extra"] == "userId=12345"
        assert service.of("connected")[0]["headers"].get("userid") == "12345"
        settled(scene, name)
        member = join["MemberID"]
        got = mpcs.get_participant(member, friendly_name=name)
        assert got.role == "ai-agent" and got.call_uuid == ai_uuid and got.mute is False
        listed = {p.role for p in mpcs.list_participants(friendly_name=name).objects}
        assert listed == {"customer", "agent", "ai-agent"}

        assert _tone_to_service(scene, service, customer, CUSTOMER_HZ) >= 40
        levels = _play_and_record(scene, service, [agent, customer], record_dir)
        assert levels["8902"] > HEARD and levels["8901"] > HEARD, levels

        mpcs.update_participant(member, friendly_name=name, mute=True)
        wait_event(scene, name, "ParticipantMute")
        settled(scene, name)
        levels = _play_and_record(scene, service, [agent, customer], record_dir)
        assert levels["8902"] < UNHEARD and levels["8901"] < UNHEARD, levels
        mpcs.update_participant(member, friendly_name=name, mute=False, hold=True)
        wait_event(scene, name, "ParticipantHold")
        settled(scene, name)
        assert _tone_to_service(scene, service, customer, CUSTOMER_HZ) == 0
        levels = _play_and_record(scene, service, [agent], record_dir)
        assert levels["8902"] < UNHEARD, levels
        mpcs.update_participant(member, friendly_name=name, hold=False)
        wait_event(scene, name, "ParticipantUnhold")
        settled(scene, name)
        mpcs.update_participant(member, friendly_name=name, coach_mode=True)
        (coaching,) = wait_event(scene, name, "ParticipantCoachModeStart")
        assert coaching["ParticipantRole"] == "ai-agent"
        assert mpcs.get_participant(member, friendly_name=name).coach_mode is True
        settled(scene, name)
        levels = _play_and_record(scene, service, [agent, customer], record_dir)
        assert levels["8902"] > HEARD and levels["8901"] < UNHEARD, levels  # a whisper
        mpcs.update_participant(member, friendly_name=name, coach_mode=False)
        wait_event(scene, name, "ParticipantCoachModeStop")
        settled(scene, name)

        rec = {"file_format": "wav", "recording_callback_url": f"{scene.app.base}/rec"}
        mpcs.start_recording(friendly_name=name, **rec)
        wait_recording(scene, name, "MPCRecordingInitiated")
        mpcs.start_participant_recording(member, friendly_name=name, **rec)
        scene.wait("the AI's track", lambda: _track(scene, member, "Initiated"))
        levels = _play_and_record(scene, service, [agent], record_dir)
        assert levels["8902"] > HEARD, levels
        mpcs.stop_participant_recording(member, friendly_name=name)
        mpcs.stop_recording(friendly_name=name)
        (recorded,) = wait_recording(scene, name, "MPCRecordingCompleted")
        (own,) = scene.wait("the AI's track", lambda: _track(scene, member, "Completed"))
        scene.flush()
        assert _level(file_of(scene, recorded), AI_HZ) > -25  # the MPC's: the AI's voice
        assert _level(file_of(scene, own), AI_HZ) > -25  # its own track

        mpcs.kick_participant(member, friendly_name=name)
        exit_ = scene.wait("the AI's exit", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantExit"
            and e.get("ParticipantCallUUID") == ai_uuid])[0]
        assert exit_["ParticipantRole"] == "ai-agent"
        assert exit_["ParticipantExitCause"] == "Kicked Out of Multiparty Call"
        scene.wait("the stream stopped", lambda: len(_statuses(scene)) >= 2)
        assert _statuses(scene) == ["started", "stopped"], _statuses(scene)
        scene.wait("the service saw the close", lambda: service.of("disconnected"))
        assert {p.role for p in mpcs.list_participants(friendly_name=name).objects} == {
            "customer", "agent"}
        assert not scene.app.of("/hangup", "plivoxml-ai")  # no call of the app's
        assert not service.of("error"), service.of("error")
    finally:
        scene.leave([customer, agent])
        service.stop()


@contextlib.contextmanager
def refusing_service():
    """A WebSocket service that refuses every upgrade with HTTP 403; yields its port."""
    def refuse(sock, address) -> None:
        with contextlib.suppress(OSError):
            sock.recv(65536)
            sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    server = StreamServer(("127.0.0.1", 0), refuse)
    server.start()
    try:
        yield server.server_port
    finally:
        server.stop(timeout=1)


def ai_agent_bad_input(scene: Scene, record_dir) -> None:
    """What can be known up front is a 400 naming the body's parameter (no service URL, a
    non-WebSocket URL, a bad content type or sampling rate, a number to dial); a service that
    refuses the upgrade is the stream's `failed` status callback with the HTTP status, the AI
    leaves, and the customer and the agent stay in the room."""
    name = mpc_name("api-ai-bad")
    customer, agent = _join(scene, name, {"8911": ("Customer", EVENTS), "8912": ("Agent", EVENTS)})
    ws = "ws://127.0.0.1:9/ai"
    try:
        cases = [({}, "ai_agent_stream_service_url"),
                 ({"ai_agent_stream_service_url": "http://127.0.0.1/ai"},
                  "ai_agent_stream_service_url"),
                 (_body(scene, ws, ai_agent_stream_content_type="audio/wav"),
                  "ai_agent_stream_content_type"),
                 (_body(scene, ws, ai_agent_stream_sampling_rate=44100),
                  "ai_agent_stream_sampling_rate"),
                 (_body(scene, ws, ai_agent_stream_extra_headers="not json"),
                  "ai_agent_stream_extra_headers"),
                 (_body(scene, ws, to="8999"), "to")]
        for body, named in cases:
            with pytest.raises(px.ValidationError) as refused:
                add_ai_agent(scene.client, friendly_name=name, **body)
            assert str(refused.value).startswith(named), (named, str(refused.value))
        assert not scene.app.of("/aistatus")  # nothing was started
        with refusing_service() as port:
            answer = add_ai_agent(scene.client, friendly_name=name,
                                  **_body(scene, f"ws://127.0.0.1:{port}/ai"))
            failed = scene.wait("the stream failed", lambda: [
                h for h in scene.app.of("/aistatus") if h["Status"] == "failed"])
        assert "upgrade refused with HTTP 403" in failed[0]["Reason"], failed
        ai_uuid = answer.calls[0]["call_uuid"]
        assert failed[0]["CallUUID"] == ai_uuid
        scene.wait("the AI is out of the MPC", lambda: {
            p.role for p in scene.client.multi_party_calls.list_participants(
                friendly_name=name).objects} == {"customer", "agent"})
        assert len(scene.members(f"mpc-{events(scene, name)[0]['MPCUUID']}")) == 2
    finally:
        scene.leave([customer, agent])


def ai_agent_of_another_account(scene: Scene, record_dir) -> None:
    """Account B's AI added to a name that only account A has a live MPC of joins B's own MPC
    of that name (the pair carries B's account), never A's."""
    name = mpc_name("api-ai-acct")
    callers = _join(scene, name, {"8921": ("Customer", EVENTS), "8922": ("Agent", EVENTS)})
    service = Service()
    try:
        answer = add_ai_agent(scene.client_b, friendly_name=name, stay_alone=True,
                              **_body(scene, f"ws://127.0.0.1:{service.port}/ai"))
        ai_uuid = answer.calls[0]["call_uuid"]
        theirs = scene.wait("B's MPC with the AI", lambda: _participants(scene.client_b, name))
        assert [(p.role, p.call_uuid) for p in theirs] == [("ai-agent", ai_uuid)]
        scene.wait("the service got start", lambda: service.of("start"))
        ours = scene.client.multi_party_calls.list_participants(friendly_name=name).objects
        assert {p.role for p in ours} == {"customer", "agent"}
        mpc_b = scene.client_b.multi_party_calls.get(friendly_name=name)
        assert mpc_b.mpc_uuid != scene.client.multi_party_calls.get(friendly_name=name).mpc_uuid
        scene.client_b.multi_party_calls.stop(friendly_name=name)
        scene.wait("the stream stopped", lambda: "stopped" in _statuses(scene))
    finally:
        scene.leave(callers)
        service.stop()


SCENARIOS = [ai_agent_added_by_api, ai_agent_bad_input, ai_agent_of_another_account]
