"""The Multi-party Call control API driven through the official Plivo SDK, written once, run on
the embedded FreeSWITCH (tests/api/test_mpc_api.py) and on a real one (tests/fs/test_api_real.py).

Each scenario takes a Scene whose daemon serves the API (`api_scene`), with SDK clients for
account A (`scene.client`, the default account of calls) and B (`scene.client_b`); it asserts
the MPC's real state (who hears whom, from audio; FreeSWITCH's events) and the status and
recording callbacks the calls caused.
"""

from __future__ import annotations

import json
import time

import gevent
import plivo.exceptions as px
import pytest
import requests
from conference.hearing import everyone_but, heard
from conference.scene import Scene
from mpc.hearing_scenarios import MUSIC, settled, tone_wav
from mpc.scenarios import doc, events, mpc_name, wait_event

from api.api_scenarios import ACCOUNT_A, ACCOUNT_B, TOKEN_A, TOKEN_B
from plivoxml_fs.client import rest_client
from plivoxml_fs.hearing import Party, measure
from plivoxml_fs.service import Daemon
from plivoxml_fs.testing import HEARS_DBFS

AFTER = "<Speak>after the call</Speak>"


def _join(scene: Scene, name: str, parties: dict[str, tuple[str, str]], after: str = AFTER):
    """One caller per To: (role, attributes); waits for their ParticipantJoin and for the
    commands those joins made to be answered."""
    before = len([e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"])
    callers = [scene.call(to, doc(name, role, attrs, after))
               for to, (role, attrs) in parties.items()]
    joins = wait_event(scene, name, "ParticipantJoin", before + len(callers))
    settled(scene, name)
    return callers, {j["ParticipantCallUUID"]: j["MemberID"] for j in joins}


def _ids(scene: Scene, name: str) -> dict[str, str]:
    """ParticipantRole -> MemberID of the joins (one per role in these scenarios)."""
    return {e["ParticipantRole"]: e["MemberID"] for e in events(scene, name)
            if e["EventName"] == "ParticipantJoin"}


def _count(scene: Scene, name: str, event: str) -> int:
    return len([e for e in events(scene, name) if e["EventName"] == event])


def list_get_and_participants(scene: Scene) -> None:
    """get by name and by uuid, list (filters, meta), list_participants and get_participant
    with Plivo's fields and types; another account sees none of it."""
    name = mpc_name("api-get")
    callers, _ = _join(scene, name, {"8001": ("Customer", 'stayAlone="true"'),
                                     "8002": ("Agent", "")})
    ids = _ids(scene, name)
    mpcs = scene.client.multi_party_calls
    try:
        got = mpcs.get(friendly_name=name)
        assert got.friendly_name == name and got.status == "Active"
        assert got.mpc_uuid == events(scene, name)[0]["MPCUUID"]
        assert got.termination_cause is None and got.end_time is None
        assert got.recording == "not-recording"
        assert got.resource_uri == f"/v1/Account/{ACCOUNT_A}/MultiPartyCall/uuid_{got.mpc_uuid}/"
        assert mpcs.get(uuid=got.mpc_uuid).friendly_name == name
        listed = mpcs.list(friendly_name=name, status="active")
        assert [m.mpc_uuid for m in listed.objects] == [got.mpc_uuid]
        assert listed.meta["count"] == 1 and listed.meta["next"] is None
        assert mpcs.list(friendly_name=name, status="ended").objects == []
        people = mpcs.list_participants(uuid=got.mpc_uuid).objects
        assert {p.member_id for p in people} == set(ids.values())
        agent = mpcs.get_participant(ids["Agent"], uuid=got.mpc_uuid)
        assert agent.member_id == ids["Agent"] and isinstance(agent.member_id, str)
        assert agent.role == "agent" and agent.mute is False and agent.hold is False
        assert agent.coach_mode is False and agent.exit_cause is None
        assert agent.call_uuid in {e.get("ParticipantCallUUID") for e in events(scene, name)}
        by_call = mpcs.list_participants(uuid=got.mpc_uuid, call_uuid=agent.call_uuid)
        assert [p.member_id for p in by_call.objects] == [ids["Agent"]]
        other = scene.client_b.multi_party_calls
        with pytest.raises(px.ResourceNotFoundError):
            other.get(friendly_name=name)
        with pytest.raises(px.ResourceNotFoundError):
            other.update_participant(ids["Agent"], uuid=got.mpc_uuid, mute=True)
        assert other.list(friendly_name=name).objects == []
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.get(friendly_name="no-such-mpc")
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.get_participant("999", uuid=got.mpc_uuid)
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.update_participant("999", uuid=got.mpc_uuid, mute=True)
    finally:
        scene.leave(callers)


def mute_hold_and_coach(scene: Scene) -> None:
    """update_participant, asserted on audio and callbacks: a barging supervisor goes into
    coach mode (heard by the agent only, ParticipantCoachModeStart, beep:1 into the room) and
    out again; the customer muted (nobody hears it, it hears the supervisor); the agent held
    (hears its hold music, not the room; nobody hears it); then `all` unmuted and unheld:
    everyone hears everyone. coach_mode for `all` or a non-supervisor is 400."""
    name = mpc_name("api-hear")
    scene.app.documents["/music"] = MUSIC
    hold_music = 'agentHoldMusicUrl="{base}/music" stayAlone="true"'
    callers, _ = _join(scene, name, {"8101": ("Agent", hold_music),
                                     "8102": ("Customer", hold_music),
                                     "8103": ("Supervisor", hold_music + ' coachMode="false"')})
    agent, customer, sup = callers
    ids = _ids(scene, name)
    mpcs = scene.client.multi_party_calls
    fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
    try:
        assert heard(scene.hearing(callers)) == everyone_but(["8101", "8102", "8103"])
        with pytest.raises(px.ValidationError, match="coach_mode"):
            mpcs.update_participant(ids["Agent"], friendly_name=name, coach_mode=True)
        with pytest.raises(px.ValidationError):
            mpcs.update_participant("all", friendly_name=name, coach_mode=True)
        answer = mpcs.update_participant(ids["Supervisor"], friendly_name=name, coach_mode=True)
        assert "coach_mode" in answer.message
        wait_event(scene, name, "ParticipantCoachModeStart")
        settled(scene, name)
        scene.wait("beep:1 into the room", lambda: [
            e for e in scene.room_events(fs_room, "play-file")
            if "tone_stream" in (e.get("File") or "")])
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"8101": {"8102", "8103"}, "8102": {"8101"},
                                  "8103": {"8101", "8102"}}, str(hearing)
        assert mpcs.get_participant(ids["Supervisor"], friendly_name=name).coach_mode is True

        mpcs.update_participant(ids["Supervisor"], friendly_name=name, coach_mode=False)
        wait_event(scene, name, "ParticipantCoachModeStop")
        mpcs.update_participant(ids["Customer"], friendly_name=name, mute=True)
        mpcs.update_participant(ids["Agent"], friendly_name=name, hold=True)
        wait_event(scene, name, "ParticipantMute")
        wait_event(scene, name, "ParticipantHold")
        settled(scene, name)
        hearing = scene.hearing(callers)
        assert heard(hearing) == {"8101": set(), "8102": {"8103"}, "8103": set()}, str(hearing)
        scene.wait("the agent's hold music", lambda: [
            e for e in scene.room_events(fs_room, "play-file-member")
            if e.get("Member-ID") == ids["Agent"]])
        got = mpcs.get_participant(ids["Agent"], friendly_name=name)
        assert got.hold is True and got.mute is False
        assert mpcs.get_participant(ids["Customer"], friendly_name=name).mute is True

        mpcs.update_participant("all", friendly_name=name, mute=False, hold=False)
        wait_event(scene, name, "ParticipantUnmute")
        wait_event(scene, name, "ParticipantUnhold")
        settled(scene, name)
        hearing = scene.hearing(callers)
        assert heard(hearing) == everyone_but(["8101", "8102", "8103"]), str(hearing)
        mpcs.update_participant("all", friendly_name=name, mute=False)  # again: no harm
        settled(scene, name)
        assert _count(scene, name, "ParticipantUnmute") == 1
    finally:
        scene.leave(callers)


def start_an_initialized_mpc(scene: Scene) -> None:
    """startMpcOnEnter="false": Initialized; start (the SDK's `{"status": ["active"]}`):
    MPCStart, Active; start again: 404 (no Initialized MPC of that name)."""
    name = mpc_name("api-start")
    attrs = 'startMpcOnEnter="false" stayAlone="true"'
    callers, _ = _join(scene, name, {"8201": ("Customer", attrs), "8202": ("Agent", attrs)})
    mpcs = scene.client.multi_party_calls
    try:
        assert mpcs.get(friendly_name=name).status == "Initialized"
        assert [m.friendly_name for m in mpcs.list(status="initialized").objects
                if m.friendly_name == name] == [name]
        assert mpcs.start(friendly_name=name) is None  # 204
        wait_event(scene, name, "MPCStart")
        settled(scene, name)
        assert mpcs.get(friendly_name=name).status == "Active"
        assert heard(scene.hearing(callers)) == everyone_but(["8201", "8202"])
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.start(friendly_name=name)
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.start(friendly_name="no-such-mpc")
    finally:
        scene.leave(callers)


def stop_ends_the_mpc(scene: Scene) -> None:
    """stop: MPCEnd with 3000 "Hangup API Triggered"; each participant exits with "Multiparty
    Call Ended" and goes on with its next verb; the ended MPC is read by uuid from the
    history (participants with exit causes), not by name."""
    name = mpc_name("api-stop")
    callers, _ = _join(scene, name, {"8301": ("Customer", ""), "8302": ("Agent", "")})
    mpcs = scene.client.multi_party_calls
    uuid = mpcs.get(friendly_name=name).mpc_uuid
    mpcs.stop(friendly_name=name)
    end = wait_event(scene, name, "MPCEnd")[0]
    assert end["MPCTerminationCause"] == "Hangup API Triggered"
    assert end["MPCTerminationCauseCode"] == "3000"
    exits = wait_event(scene, name, "ParticipantExit", 2)
    assert {e["ParticipantExitCause"] for e in exits} == {"Multiparty Call Ended"}
    for exit_ in exits:  # the next verb ran
        scene.wait("the next verb", lambda u=exit_["ParticipantCallUUID"]: [
            a for a, _ in scene.apps(u) if a == "speak"])
    scene.leave(callers)
    got = scene.wait("the ended MPC in the history", lambda: _ended(scene, uuid))
    assert got.status == "Ended" and got.termination_cause_code == 3000
    assert got.termination_cause == "Hangup API Triggered" and got.end_time
    assert isinstance(got.duration, int)
    people = mpcs.list_participants(uuid=uuid).objects
    assert {p.exit_cause for p in people} == {"Multiparty Call Ended"}
    assert all(p.mute is None and p.hold is None and p.exit_time for p in people)
    assert uuid in [m.mpc_uuid for m in mpcs.list(status="ended").objects]
    assert [m.mpc_uuid for m in mpcs.list(termination_cause_code=3000,
                                          friendly_name=name).objects] == [uuid]
    with pytest.raises(px.ResourceNotFoundError):
        mpcs.get(friendly_name=name)
    with pytest.raises(px.ResourceNotFoundError):
        scene.client_b.multi_party_calls.get(uuid=uuid)


def _ended(scene: Scene, uuid: str):
    try:
        got = scene.client.multi_party_calls.get(uuid=uuid)
    except px.ResourceNotFoundError:
        return None
    return got if got.status == "Ended" else None


def kick_a_participant(scene: Scene) -> None:
    """kick_participant: exit cause "Kicked Out of Multiparty Call"; with nothing after its
    MPC the kicked call ends with 4030; the others stay."""
    name = mpc_name("api-kick")
    stay = 'stayAlone="true"'
    callers, _ = _join(scene, name, {"8401": ("Customer", stay), "8402": ("Agent", stay),
                                     "8403": ("Agent", stay)}, after="")
    ids = _ids(scene, name)
    mpcs = scene.client.multi_party_calls
    try:
        assert mpcs.kick_participant(ids["Customer"], friendly_name=name) is None
        exit_ = wait_event(scene, name, "ParticipantExit")[0]
        assert exit_["MemberID"] == ids["Customer"]
        assert exit_["ParticipantExitCause"] == "Kicked Out of Multiparty Call"
        hangup = scene.hung_up(callers[0])
        assert hangup["HangupCauseCode"] == "4030", hangup
        left = {p.member_id for p in mpcs.list_participants(friendly_name=name).objects}
        assert ids["Customer"] not in left and len(left) == 2
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.kick_participant(ids["Customer"], friendly_name=name)
    finally:
        scene.leave(callers[1:])


def concurrent_updates(scene: Scene) -> None:
    """Two updates of one participant at once (mute, and hold): both are applied, each
    callback once."""
    name = mpc_name("api-race")
    callers, _ = _join(scene, name, {"8501": ("Customer", 'stayAlone="true"'),
                                     "8502": ("Agent", "")})
    ids = _ids(scene, name)
    try:
        a = rest_client(scene.api_base, ACCOUNT_A, TOKEN_A).multi_party_calls
        b = rest_client(scene.api_base, ACCOUNT_A, TOKEN_A).multi_party_calls
        jobs = [gevent.spawn(a.update_participant, ids["Customer"], friendly_name=name,
                             mute=True),
                gevent.spawn(b.update_participant, ids["Customer"], friendly_name=name,
                             hold=True)]
        gevent.joinall(jobs, raise_error=True)
        wait_event(scene, name, "ParticipantMute")
        wait_event(scene, name, "ParticipantHold")
        settled(scene, name)
        got = scene.client.multi_party_calls.get_participant(ids["Customer"],
                                                             friendly_name=name)
        assert got.mute is True and got.hold is True
        assert _count(scene, name, "ParticipantMute") == 1
        assert _count(scene, name, "ParticipantHold") == 1
        assert heard(scene.hearing(callers)) == {"8501": set(), "8502": set()}
    finally:
        scene.leave(callers)


def recording_and_play(scene: Scene) -> None:
    """start/pause/resume/stop_recording: MPCRecordingInitiated/Paused/Resumed/Completed with
    the recording id the start answered; a participant's recording (Initiated, Paused,
    Resumed, Completed);
    start_play_audio to a member (FreeSWITCH plays it to that member only) and stop."""
    name = mpc_name("api-rec")
    callers, _ = _join(scene, name, {"8601": ("Customer", 'stayAlone="true"'),
                                     "8602": ("Agent", 'stayAlone="true"')})
    ids = _ids(scene, name)
    mpcs = scene.client.multi_party_calls
    fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"

    def recs(event):
        return [h for h in scene.app.of("/rec") if h.get("EventName") == event
                and h.get("MPCName", name) == name]

    try:
        started = mpcs.start_recording(friendly_name=name,
                                       recording_callback_url=f"{scene.app.base}/rec")
        assert started.recording_id and started.recording_url.endswith(".mp3")
        initiated = scene.wait("MPCRecordingInitiated", lambda: recs("MPCRecordingInitiated"))
        assert initiated[0]["RecordingUUID"] == started.recording_id
        assert mpcs.get(friendly_name=name).recording == "recording"
        with pytest.raises(px.ValidationError):
            mpcs.start_recording(friendly_name=name)
        mpcs.pause_recording(friendly_name=name)
        scene.wait("MPCRecordingPaused", lambda: recs("MPCRecordingPaused"))
        assert mpcs.get(friendly_name=name).recording == "paused"
        mpcs.resume_recording(friendly_name=name)
        scene.wait("MPCRecordingResumed", lambda: recs("MPCRecordingResumed"))
        mpcs.stop_recording(friendly_name=name)
        done = scene.wait("MPCRecordingCompleted", lambda: recs("MPCRecordingCompleted"))
        assert done[0]["RecordingUUID"] == started.recording_id

        for many in ("all", f"{ids['Agent']},{ids['Customer']}"):
            with pytest.raises(px.ValidationError, match="member_id"):
                mpcs.start_participant_recording(many, friendly_name=name)
        track = mpcs.start_participant_recording(ids["Agent"], friendly_name=name)
        assert track.recording_id and track.recording_url
        scene.wait("ParticipantRecordingInitiated", lambda: recs("ParticipantRecordingInitiated"))
        mpcs.pause_participant_recording(ids["Agent"], friendly_name=name)
        paused = scene.wait("ParticipantRecordingPaused", lambda: recs(
            "ParticipantRecordingPaused"))
        assert paused[0]["MemberID"] == ids["Agent"]
        assert paused[0]["RecordingUUID"] == track.recording_id
        mpcs.resume_participant_recording(ids["Agent"], friendly_name=name)
        scene.wait("ParticipantRecordingResumed", lambda: recs("ParticipantRecordingResumed"))
        mpcs.stop_participant_recording(ids["Agent"], friendly_name=name)
        scene.wait("ParticipantRecordingCompleted", lambda: recs("ParticipantRecordingCompleted"))

        url = f"{scene.app.base}/sounds/chime.wav"
        played = mpcs.start_play_audio(ids["Customer"], url=url, friendly_name=name)
        assert played.message == "play queued into MPC"
        assert played.mpcMemberId == [ids["Customer"]] and played.mpcName == name
        scene.wait("the play to that member", lambda: [
            e for e in scene.room_events(fs_room, "play-file-member")
            if e.get("Member-ID") == ids["Customer"] and "chime.wav" in (e.get("File") or "")])
        mpcs.stop_play_audio(ids["Customer"], friendly_name=name)
        with pytest.raises(px.ValidationError, match="url"):  # ours: the SDK checks the prefix
            mpcs.start_play_audio(ids["Customer"], url="http:///y.wav", friendly_name=name)
    finally:
        scene.leave(callers)


def history_survives_a_restart(scene: Scene) -> None:
    """An ended MPC is read by uuid (get, list_participants, list status=ended) from a daemon
    started anew on the same state directory."""
    name = mpc_name("api-restart")
    callers, _ = _join(scene, name, {"8701": ("Customer", ""), "8702": ("Agent", "")})
    uuid = scene.client.multi_party_calls.get(friendly_name=name).mpc_uuid
    scene.client.multi_party_calls.stop(uuid=uuid)
    scene.leave(callers)
    before = scene.wait("history", lambda: _ended(scene, uuid))
    scene.daemon.stop(drain_timeout_s=2)
    again = Daemon(scene.settings)
    again.start_server()
    try:
        host, port = again.api.address
        mpcs = rest_client(f"http://{host}:{port}", ACCOUNT_A, TOKEN_A).multi_party_calls
        got = mpcs.get(uuid=uuid)
        assert got.status == "Ended" and got.end_time == before.end_time
        assert got.termination_cause_code == 3000
        assert len(mpcs.list_participants(uuid=uuid).objects) == 2
        assert uuid in [m.mpc_uuid for m in mpcs.list(status="ended").objects]
        with pytest.raises(px.ResourceNotFoundError):
            rest_client(f"http://{host}:{port}", ACCOUNT_B, TOKEN_B).multi_party_calls.get(
                uuid=uuid)
    finally:
        again.stop(drain_timeout_s=1)


SCENARIOS = [list_get_and_participants, mute_hold_and_coach, start_an_initialized_mpc,
             stop_ends_the_mpc, kick_a_participant, concurrent_updates, recording_and_play]


#: How the daemon dials an added participant in these tests: the loopback leg that answers
#: runs the web app's document for `to` (the far end); the other reaches the daemon's socket
#: through the dialplan (extension 7400) and joins the MPC.
DIAL_STRING = "loopback/{to}/default 7400 XML default"
#: The confirm prompt (`confirm_key_sound_url`: the web app's /docs/confirm), its words, and
#: how long a dialled party has to press the key in these tests (`confirm_key_timeout_s`).
CONFIRM_URL = "http://127.0.0.1:9/docs/confirm"
CONFIRM_WORDS = "Press five to join the call"
CONFIRM_TIMEOUT_S = 5.0
API_EVENTS = ('statusCallbackEvents="mpc-state-changes,participant-state-changes,'
              'add-participant-api-events" stayAlone="true"')


def add_participant_by_dialling(scene: Scene) -> None:
    """add_participant(from, to): the daemon dials (DIAL_STRING), the answered call joins the
    MPC as the role asked, with its attributes (mute); AddParticipantByAPIActionInitiated
    and Completed carry the request's id; FreeSWITCH's room has the new member."""
    name = mpc_name("api-add")
    callers, _ = _join(scene, name, {"8801": ("Customer", API_EVENTS)})
    scene.app.answers["8899"] = '<Response><Speak>hello</Speak><Wait length="60"/></Response>'
    mpcs = scene.client.multi_party_calls
    fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
    added = None
    try:
        answer = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                      to_="8899", caller_name="Help Desk", mute=True)
        assert answer.message == "add participant action initiated"
        (call,) = answer.calls
        assert call["to"] == "8899" and call["from"] == "15550001111"
        added = call["call_uuid"]
        initiated = wait_event(scene, name, "AddParticipantByAPIActionInitiated")[0]
        assert initiated["RequestUUID"] == answer.request_uuid
        completed = wait_event(scene, name, "AddParticipantByAPIActionCompleted")[0]
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        assert completed["RequestUUID"] == answer.request_uuid
        join = scene.wait("the added agent's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == added])[0]
        assert join["ParticipantRole"] == "Agent"
        settled(scene, name)
        got = mpcs.get_participant(join["MemberID"], friendly_name=name)
        assert got.role == "agent" and got.mute is True and got.call_uuid == added
        assert any(line.split(";")[0] == join["MemberID"] for line in scene.members(fs_room))
        far_end = scene.app.of("/answer", "8899")[0]  # the dialled party's call
        assert far_end["From"] == "15550001111" and far_end["CallerName"] == "Help Desk"
        scene.app.answers["8897"] = '<Response><Hangup reason="busy"/></Response>'
        busy = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                    to_="8897")
        failed = scene.wait("the busy dial's Completed", lambda: [
            e for e in events(scene, name) if e["EventName"] ==
            "AddParticipantByAPIActionCompleted" and e["RequestUUID"] == busy.request_uuid])
        assert failed[0]["AddParticipantAPIRequestOutcome"] == "failure"
        assert _count(scene, name, "ParticipantJoin") == 2
        with pytest.raises(px.ValidationError):  # the SDK refuses it itself; so do we
            mpcs.add_participant("Customer", friendly_name=name, from_="15550001111",
                                 to_="8898<8897")
        reply = requests.post(
            f"{scene.api_base}/v1/Account/{ACCOUNT_A}/MultiPartyCall/name_{name}/Participant/",
            json={"role": "customer", "from": "15550001111", "to": "8898<8897"},
            auth=(ACCOUNT_A, TOKEN_A), timeout=5)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"].startswith("to:") and "role agent" in reply.json()["error"]
        with pytest.raises(px.ValidationError, match="confirm_key_sound_url"):
            mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                 to_="8898", confirm_key="5")  # the key needs its prompt
        for params, named in (({"confirm_key": "55", "confirm_key_sound_url": CONFIRM_URL},
                               "confirm_key"),
                              ({"dial_music": "ftp://app/music.xml"}, "dial_music"),
                              ({"send_on_preanswer": True, "send_digits": "1"},
                               "send_on_preanswer"),
                              ({"ring_timeout": "30<30"}, "ring_timeout"),
                              ({"sip_headers": "a=b c"}, "sip_headers")):
            reply = requests.post(
                f"{scene.api_base}/v1/Account/{ACCOUNT_A}/MultiPartyCall/name_{name}"
                "/Participant/", json={"role": "agent", "from": "15550001111", "to": "8898",
                                       **params}, auth=(ACCOUNT_A, TOKEN_A), timeout=5)
            assert reply.status_code == 400, reply.text
            assert reply.json()["error"].startswith(f"{named}:"), reply.text
        with pytest.raises(px.ValidationError):  # the document check names the problem
            mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                 to_="8898", wait_music_url="http:// bad")
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.add_participant("Agent", uuid="no-such-mpc", from_="15550001111",
                                 to_="8898")
    finally:
        if added is not None:
            scene.api(f"uuid_kill {added}")
        scene.leave(callers)


def add_participant_ringing_in_parallel(scene: Scene) -> None:
    """to="a<b": both ring at once; the first to answer joins the MPC, the other ends with
    Plivo's LOST RACE (its far end's hangup URL says 9000)."""
    name = mpc_name("api-race")
    callers, _ = _join(scene, name, {"8821": ("Customer", API_EVENTS)})
    # a plain Wait needs no answer: 8822 rings until the race is lost
    scene.app.answers["8822"] = '<Response><Wait length="60"/></Response>'
    scene.app.answers["8823"] = '<Response><Speak>hello</Speak><Wait length="60"/></Response>'
    mpcs = scene.client.multi_party_calls
    winner = None
    try:
        answer = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                      to_="8822<8823")
        assert [c["to"] for c in answer.calls] == ["8822", "8823"]
        uuids = {c["to"]: c["call_uuid"] for c in answer.calls}
        assert len(set(uuids.values())) == 2
        winner = uuids["8823"]
        scene.wait("the far end that rings", lambda: scene.app.of("/answer", "8822"))
        completed = wait_event(scene, name, "AddParticipantByAPIActionCompleted")[0]
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        join = scene.wait("the winner's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == winner])[0]
        assert join["ParticipantRole"] == "Agent"
        lost = scene.wait("the losing far end's hangup", lambda: scene.app.of("/hangup",
                                                                               "8822"))[0]
        assert lost["HangupCauseCode"] == "9000", lost
        settled(scene, name)
        assert _count(scene, name, "ParticipantJoin") == 2
        assert not [e for e in events(scene, name) if e.get("ParticipantCallUUID")
                    == uuids["8822"]]
    finally:
        if winner is not None:
            scene.api(f"uuid_kill {winner}")
        scene.leave(callers)


def add_participant_by_moving_a_call(scene: Scene) -> None:
    """add_participant(call_uuid): a caller in a <Conference> of this daemon leaves it and
    joins the MPC as a supervisor (the rest of its document is not run)."""
    from conference.scenarios import doc as conference_doc
    from conference.scenarios import room as conference_room

    name = mpc_name("api-move")
    callers, _ = _join(scene, name, {"8811": ("Customer", API_EVENTS),
                                     "8812": ("Agent", 'stayAlone="true"')})
    waiting = conference_room("api-move-conf")
    mover = scene.call("8813", conference_doc(waiting, "", "<Speak>never said</Speak>"))
    enter = scene.entered(mover)
    mpcs = scene.client.multi_party_calls
    try:
        answer = mpcs.add_participant("Supervisor", friendly_name=name,
                                      call_uuid=enter["CallUUID"], coach_mode=False)
        assert answer.calls[0]["call_uuid"] == enter["CallUUID"]
        join = scene.wait("the moved call's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == enter["CallUUID"]])[0]
        assert join["ParticipantRole"] == "Supervisor"
        settled(scene, name)
        everyone = [*callers, mover]
        assert heard(scene.hearing(everyone)) == everyone_but(["8811", "8812", "8813"])
        assert ("speak", "flite|slt|never said") not in scene.apps(enter["CallUUID"])
        with pytest.raises(px.ResourceNotFoundError):
            mpcs.add_participant("Agent", friendly_name=name, call_uuid="not-a-call-of-ours")
        for asked in ({"caller_name": "Desk"}, {"ring_timeout": 20},
                      {"confirm_key": "5", "confirm_key_sound_url": CONFIRM_URL}):
            with pytest.raises(px.ValidationError, match=next(iter(asked))):  # no dial: 400
                mpcs.add_participant("Agent", friendly_name=name,
                                     call_uuid=enter["CallUUID"], **asked)
        # moved on again, out of this MPC: "Participant Call Transferred", not "Kicked..."
        # into an MPC it creates: AddParticipantByAPIAction* come from the request's status
        # callback, with no MPCUUID yet (SequenceNumber 0); the MPC's own events follow
        onward = mpc_name("api-move-on")
        moved = mpcs.add_participant(
            "Agent", friendly_name=onward, call_uuid=enter["CallUUID"],
            status_callback_url=f"{scene.app.base}/mpc",
            status_callback_events="mpc-state-changes,participant-state-changes,"
                                   "add-participant-api-events")
        exit_ = scene.wait("the moved call's exit", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantExit"
            and e.get("ParticipantCallUUID") == enter["CallUUID"]])[0]
        assert exit_["ParticipantExitCause"] == "Participant Call Transferred"
        wait_event(scene, onward, "ParticipantJoin")
        for event in ("AddParticipantByAPIActionInitiated", "AddParticipantByAPIActionCompleted"):
            (got,) = wait_event(scene, onward, event)
            assert got["RequestUUID"] == moved.request_uuid and got["MPCUUID"] == ""
            assert got["SequenceNumber"] == "0"
            assert got["ParticipantCallUUID"] == enter["CallUUID"]
        assert got["AddParticipantAPIRequestOutcome"] == "success"
        (initialized,) = wait_event(scene, onward, "MPCInitialized")
        assert initialized["MPCUUID"] and initialized["SequenceNumber"] == "1"
    finally:
        scene.leave([*callers, mover])


FAR_END = '<Response><Speak>hello</Speak><Wait length="3600"/></Response>'


#: The added agent's phone talks: a sine at AGENT_HZ (none of the parties' tones), so the
#: customer's recording says whether the agent is heard in the MPC.
AGENT_HZ = 1450
TALKING_AGENT = f'<Response><Play loop="0">{{base}}/tones/{AGENT_HZ}.wav</Play></Response>'


def _customer_hears(scene: Scene, callers, label: str):
    """Who the customer's phone hears (its own party tone and the agent's sine)."""
    return measure(scene.api, [Party(c.to, c.a_leg) for c in callers],
                   scene.record_dir / label, time_scale=scene.time_scale,
                   extra_tones={"8832": AGENT_HZ})


def _prompted(scene: Scene, call_uuid: str) -> None:
    """Wait until the dialled leg `call_uuid` hears the confirm prompt (FreeSWITCH ran it)."""
    scene.wait("the confirm prompt", lambda: any(
        app == "speak" and CONFIRM_WORDS in data for app, data in scene.apps(call_uuid)))


def _press(scene: Scene, to: str, digit: str) -> None:
    """The called party `to` presses `digit` (its phone sends it to the dialled leg)."""
    far = scene.wait(f"{to} answered", lambda: scene.app.of("/answer", to))[0]["CallUUID"]
    scene.api(f"uuid_send_dtmf {far} {digit}")


def _status(scene: Scene, call_uuid: str) -> dict:
    """The call_status_callback_url request (the leg's hangup) of leg `call_uuid`."""
    return scene.wait(f"{call_uuid}'s status callback", lambda: [
        h for h in scene.app.of("/status") if h.get("CallUUID") == call_uuid])[0]


def _completed(scene: Scene, name: str, request_uuid: str) -> dict:
    return scene.wait("AddParticipantByAPIActionCompleted", lambda: [
        e for e in events(scene, name) if e["EventName"] == "AddParticipantByAPIActionCompleted"
        and e["RequestUUID"] == request_uuid])[0]


def _confirmed_add(scene: Scene, name: str, to: str, **more):
    return scene.client.multi_party_calls.add_participant(
        "Agent", friendly_name=name, from_="15550001111", to_=to, confirm_key="5",
        confirm_key_sound_url=f"{scene.app.base}/docs/confirm",
        call_status_callback_url=f"{scene.app.base}/status", **more)


def add_participant_with_the_right_confirm_key(scene: Scene) -> None:
    """confirm_key: the answered agent hears confirm_key_sound_url's Speak (fetched with GET),
    presses 5 and only then joins: Completed says success, the room has it, the customer and
    the agent hear each other (audio); the prompt's terminator variables are unset again."""
    name = mpc_name("api-confirm")
    callers, _ = _join(scene, name, {"8831": ("Customer", API_EVENTS)})
    scene.app.documents["/docs/confirm"] = f"<Response><Speak>{CONFIRM_WORDS}</Speak></Response>"
    scene.app.answers["8832"] = TALKING_AGENT
    added = None
    try:
        answer = _confirmed_add(scene, name, "8832", sip_headers="Team=Blue")
        added = answer.calls[0]["call_uuid"]
        _prompted(scene, added)
        assert not [e for e in events(scene, name) if e["EventName"] in (
            "ParticipantJoin", "AddParticipantByAPIActionCompleted")
            and e.get("ParticipantCallUUID") == added]  # not before the key
        (fetch,) = [h for h in scene.app.hits if h.path == "/docs/confirm"]
        assert fetch.method == "GET" and fetch.params["CallUUID"] == added
        assert fetch.params["X-PH-Team"] == "Blue"  # sip_headers echoed on the leg's requests
        before = _customer_hears(scene, callers, "before")
        assert before.heard_by("8831") == set(), str(before)  # not in the MPC yet
        _press(scene, "8832", "5")
        completed = _completed(scene, name, answer.request_uuid)
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        assert completed["ParticipantCallUUID"] == added
        join = scene.wait("the confirmed agent's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == added])[0]
        settled(scene, name)
        got = scene.client.multi_party_calls.get_participant(join["MemberID"], friendly_name=name)
        assert got.role == "agent" and got.call_uuid == added
        fs_room = f"mpc-{join['MPCUUID']}"
        assert any(line.split(";")[0] == join["MemberID"] for line in scene.members(fs_room))
        after = _customer_hears(scene, callers, "after")
        assert after.heard_by("8831") == {"8832"}, str(after)
        assert ("set", "playback_terminators=") in scene.apps(added)
    finally:
        if added is not None:
            scene.api(f"uuid_kill {added}")
        scene.leave(callers)


def add_participant_with_a_wrong_or_no_confirm_key(scene: Scene) -> None:
    """A wrong key, no key within confirm_key_timeout_s, or a prompt that holds more than
    Play/Speak/Wait: the leg never joins, it is hung up with Plivo's 9110 "Confirm Key
    Challenge Failed" (its call_status_callback_url request says so), and Completed says
    failure."""
    name = mpc_name("api-noconfirm")
    callers, _ = _join(scene, name, {"8851": ("Customer", API_EVENTS)})
    scene.app.documents["/docs/confirm"] = f"<Response><Speak>{CONFIRM_WORDS}</Speak></Response>"
    legs = []
    try:
        for to in ("8852", "8853"):
            scene.app.answers[to] = FAR_END
        wrong = _confirmed_add(scene, name, "8852")
        legs.append(wrong.calls[0]["call_uuid"])
        _prompted(scene, legs[-1])
        _press(scene, "8852", "4")
        silent = _confirmed_add(scene, name, "8853")
        legs.append(silent.calls[0]["call_uuid"])
        started = time.monotonic()
        for request in (wrong, silent):
            completed = _completed(scene, name, request.request_uuid)
            assert completed["AddParticipantAPIRequestOutcome"] == "failure", completed
        assert time.monotonic() - started >= CONFIRM_TIMEOUT_S - 1.5  # it waited for a key
        scene.app.documents["/docs/bad-confirm"] = "<Response><Hangup/></Response>"
        scene.app.answers["8854"] = FAR_END
        bad_prompt = scene.client.multi_party_calls.add_participant(
            "Agent", friendly_name=name, from_="15550001111", to_="8854", confirm_key="#",
            confirm_key_sound_url=f"{scene.app.base}/docs/bad-confirm",
            confirm_key_sound_method="POST", call_status_callback_url=f"{scene.app.base}/status")
        legs.append(bad_prompt.calls[0]["call_uuid"])
        failed = _completed(scene, name, bad_prompt.request_uuid)
        assert failed["AddParticipantAPIRequestOutcome"] == "failure"
        assert [h.method for h in scene.app.hits if h.path == "/docs/bad-confirm"] == ["POST"]
        for leg in legs:
            status = _status(scene, leg)
            assert status["HangupCauseCode"] == "9110", status
            assert status["HangupCauseName"] == "Confirm Key Challenge Failed"
            assert status["HangupSource"] == "Plivo"
        assert not [e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
                    and e.get("ParticipantCallUUID") in legs]
        assert _count(scene, name, "ParticipantJoin") == 1
    finally:
        for leg in legs:
            scene.api(f"uuid_kill {leg}")
        scene.leave(callers)


def add_participant_in_parallel_with_a_confirm_key(scene: Scene) -> None:
    """to="a<b" with confirm_key: both answer and hear the prompt; the first to press the key
    (b) joins, the other (a, still in its prompt) is hung up with LOST RACE (9000) and never
    joins; Completed names the winner."""
    name = mpc_name("api-confirm-race")
    callers, _ = _join(scene, name, {"8861": ("Customer", API_EVENTS)})
    scene.app.documents["/docs/confirm"] = (
        f'<Response><Speak>{CONFIRM_WORDS}</Speak><Wait length="30"/></Response>')
    for to in ("8862", "8863"):
        scene.app.answers[to] = FAR_END
    uuids: dict[str, str] = {}
    try:
        answer = _confirmed_add(scene, name, "8862<8863")
        uuids = {c["to"]: c["call_uuid"] for c in answer.calls}
        for to in ("8862", "8863"):
            _prompted(scene, uuids[to])
        # pressed during the prompt's 30 s Wait: sleep_eat_digits lets the key end it (were
        # it not read until the sleep ends, the winner would join 30 s late, after the wait)
        scene.wait("the prompt's Wait", lambda: ("sleep", "30000") in scene.apps(uuids["8863"]))
        _press(scene, "8863", "5")
        completed = _completed(scene, name, answer.request_uuid)
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        assert completed["ParticipantCallUUID"] == uuids["8863"]
        scene.wait("the winner's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == uuids["8863"]])
        lost = _status(scene, uuids["8862"])
        assert lost["HangupCauseCode"] == "9000" and lost["HangupCauseName"] == "Lost Race"
        settled(scene, name)
        assert not [e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
                    and e.get("ParticipantCallUUID") == uuids["8862"]]
        assert _count(scene, name, "ParticipantJoin") == 2
    finally:
        for leg in uuids.values():
            scene.api(f"uuid_kill {leg}")
        scene.leave(callers)


def add_participant_dial_parameters(scene: Scene) -> None:
    """delay_dial per leg (the first leg wins before the second's delay is over: that one is
    never dialled and ends as Lost Race), send_digits reach the called party once it
    answered, and call_status_callback_url hears of a leg that never answered (busy: 3010)."""
    name = mpc_name("api-dial")
    callers, _ = _join(scene, name, {"8871": ("Customer", API_EVENTS)})
    scene.app.answers["8872"] = TALKING_AGENT
    scene.app.answers["8874"] = '<Response><Hangup reason="busy"/></Response>'
    mpcs = scene.client.multi_party_calls
    uuids: dict[str, str] = {}
    try:
        answer = mpcs.add_participant(
            "Agent", friendly_name=name, from_="15550001111", to_="8872<8873",
            delay_dial="0<30", send_digits="1w2",
            call_status_callback_url=f"{scene.app.base}/status")
        uuids = {c["to"]: c["call_uuid"] for c in answer.calls}
        completed = _completed(scene, name, answer.request_uuid)
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        assert completed["ParticipantCallUUID"] == uuids["8872"]
        scene.wait("the winner's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == uuids["8872"]])
        far = scene.app.of("/answer", "8872")[0]["CallUUID"]
        scene.wait("the sent digits", lambda: [
            e.get("DTMF-Digit") for e in list(scene.events)
            if e.name == "DTMF" and e.get("Unique-ID") == far] == ["1", "2"])
        never = _status(scene, uuids["8873"])
        assert never["HangupCauseCode"] == "9000" and never["To"] == "8873", never
        assert never["CallStatus"] == "no-answer" and never["HangupSource"] == "Plivo"
        assert not scene.app.of("/answer", "8873")  # never dialled
        busy = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                    to_="8874", call_status_callback_url=f"{scene.app.base}/status")
        status = _status(scene, busy.calls[0]["call_uuid"])
        assert status["CallStatus"] == "busy" and status["HangupCauseCode"] == "3010", status
        assert status["Direction"] == "outbound" and status["Event"] == "Hangup"
    finally:
        for leg in uuids.values():
            scene.api(f"uuid_kill {leg}")
        scene.leave(callers)


SCENARIOS += [add_participant_dial_parameters]


def add_participant_asynchronously(scene: Scene) -> None:
    """add_participant with callback_url (Plivo's asynchronous request): "async api spawned"
    at once; add participant's own answer (calls, request_uuid) is posted to callback_url with
    the same api_id; the dialled agent joins and AddParticipantByAPIActionCompleted carries
    that request_uuid. An unknown MPC's 404 comes the same way."""
    name = mpc_name("api-async-add")
    callers, _ = _join(scene, name, {"8951": ("Customer", API_EVENTS)})
    scene.app.answers["8952"] = "<Response><Speak>hello</Speak><Wait length=\"60\"/></Response>"
    mpcs = scene.client.multi_party_calls
    added = None
    try:
        answer = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                      to_="8952", callback_url=f"{scene.app.base}/async-add")
        assert answer.message == "async api spawned"
        posted = scene.wait("add participant's answer",
                            lambda: scene.app.of("/async-add"))[0]
        assert posted["api_id"] == answer.api_id and posted["status_code"] == "201"
        assert posted["message"] == "add participant action initiated"
        (call,) = json.loads(posted["calls"])
        added = call["call_uuid"]
        assert call["to"] == "8952"
        completed = wait_event(scene, name, "AddParticipantByAPIActionCompleted")[0]
        assert completed["RequestUUID"] == posted["request_uuid"]
        assert completed["AddParticipantAPIRequestOutcome"] == "success"
        scene.wait("the added agent's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == added])
        lost = mpcs.add_participant("Agent", uuid="no-such-mpc", from_="15550001111",
                                    to_="8952", callback_url=f"{scene.app.base}/async-add")
        failed = scene.wait("the 404's answer", lambda: [
            p for p in scene.app.of("/async-add") if p["api_id"] == lost.api_id])[0]
        assert failed["status_code"] == "404" and "not found" in failed["error"]
    finally:
        if added is not None:
            scene.api(f"uuid_kill {added}")
        scene.leave(callers)


SCENARIOS += [add_participant_asynchronously]
SCENARIOS += [add_participant_by_dialling, add_participant_ringing_in_parallel,
              add_participant_by_moving_a_call, add_participant_with_the_right_confirm_key,
              add_participant_with_a_wrong_or_no_confirm_key,
              add_participant_in_parallel_with_a_confirm_key]


#: The dial music's tone and the held customer's hold music's (above the parties' tones).
DIAL_MUSIC_HZ, HOLD_MUSIC_HZ = 2300, 2900


def _dial_music_on(scene: Scene, fs_room: str) -> bool:
    """Whether FreeSWITCH plays the dial music to a member still (a play without its done)."""
    def count(action: str) -> int:
        return len([e for e in scene.room_events(fs_room, action)
                    if "dial.wav" in (e.get("File") or "")])
    return count("play-file-member") > count("play-file-member-done")


def add_participant_with_dial_music(scene: Scene) -> None:
    """dial_music as a URL (a <Play> of a WAV): while the agent's phone rings the customer in
    the started MPC hears its tone, the held customer only its hold music; the dial ends (the
    ringing leg hung up: Completed failure) and the tone stops. A second add with the same
    music is answered: the tone stops at its Completed success, the agent joins."""
    name = mpc_name("api-dialmusic")
    scene.app.audio["/dial.wav"] = tone_wav(DIAL_MUSIC_HZ)
    scene.app.documents["/dial-music"] = "<Response><Play>{base}/dial.wav</Play></Response>"
    scene.app.audio["/hold.wav"] = tone_wav(HOLD_MUSIC_HZ)
    scene.app.documents["/hold"] = "<Response><Play>{base}/hold.wav</Play></Response>"
    hold = API_EVENTS + ' customerHoldMusicUrl="{base}/hold"'
    callers, _ = _join(scene, name, {"8841": ("Customer", hold),
                                     "8842": ("Customer", hold + ' hold="true"')})
    scene.app.answers["8843"] = '<Response><Wait length="60"/></Response>'  # rings on
    scene.app.answers["8844"] = '<Response><Speak>hello</Speak><Wait length="60"/></Response>'
    mpcs = scene.client.multi_party_calls
    fs_room = f"mpc-{events(scene, name)[0]['MPCUUID']}"
    music = f"{scene.app.base}/dial-music"
    added = None
    try:
        ringing = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                       to_="8843", dial_music=music)
        scene.wait("the far end that rings", lambda: scene.app.of("/answer", "8843"))
        scene.wait("the dial music to both but the held customer", lambda: [
            e for e in scene.room_events(fs_room, "play-file-member")
            if "dial.wav" in (e.get("File") or "")])
        settled(scene, name)
        hearing = scene.hearing(callers)
        assert hearing.level_of("8841", DIAL_MUSIC_HZ) > HEARS_DBFS, str(hearing)
        assert hearing.level_of("8842", DIAL_MUSIC_HZ) < -40, str(hearing)
        assert hearing.level_of("8842", HOLD_MUSIC_HZ) > HEARS_DBFS, str(hearing)
        assert heard(hearing) == {"8841": set(), "8842": set()}, str(hearing)
        (call,) = ringing.calls
        scene.api(f"uuid_kill {call['call_uuid']}")
        failed = scene.wait("the rung dial's Completed", lambda: [
            e for e in events(scene, name) if e["EventName"] ==
            "AddParticipantByAPIActionCompleted" and e["RequestUUID"] == ringing.request_uuid])
        assert failed[0]["AddParticipantAPIRequestOutcome"] == "failure"
        settled(scene, name)
        scene.wait("the dial music stopped", lambda: not _dial_music_on(scene, fs_room))
        hearing = scene.hearing(callers)
        assert hearing.level_of("8841", DIAL_MUSIC_HZ) < -40, str(hearing)
        assert hearing.level_of("8842", HOLD_MUSIC_HZ) > HEARS_DBFS, str(hearing)

        answered = mpcs.add_participant("Agent", friendly_name=name, from_="15550001111",
                                        to_="8844", dial_music=music)
        (call,) = answered.calls
        added = call["call_uuid"]
        scene.wait("the answered agent's join", lambda: [
            e for e in events(scene, name) if e["EventName"] == "ParticipantJoin"
            and e.get("ParticipantCallUUID") == added])
        settled(scene, name)
        scene.wait("the dial music stopped", lambda: not _dial_music_on(scene, fs_room))
        hearing = scene.hearing(callers)
        assert hearing.level_of("8841", DIAL_MUSIC_HZ) < -40, str(hearing)
        assert (scene.app.of("/dial-music") or [{}])[0].get("MPCName") == name
    finally:
        if added is not None:
            scene.api(f"uuid_kill {added}")
        scene.leave(callers)


SCENARIOS += [add_participant_with_dial_music]
