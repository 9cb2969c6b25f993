"""The MPC recording component's decisions (rooms/mpc_recording.py) inside an MPC room, with a
fake clock: no gevent, no sockets. The commands' answers are fed back as CommandDone."""

from __future__ import annotations

import itertools
import logging

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms import mpc_recording
from plivoxml_fs.rooms.model import Command, CommandDone, Emit, Role, RoomContext
from plivoxml_fs.rooms.mpc import MpcRoom
from plivoxml_fs.rooms.mpc_model import MpcSettings
from plivoxml_fs.testing import conference_event
from rooms.test_mpc import NAME, T0, UID, seat

REC = MpcSettings(record=True, record_file_format="wav", recording_callback_url="http://app/rec",
                  start_recording_sound="tone_stream://%(500,0,900)")
REC_DIR = "/var/rec"


def make(settings: MpcSettings = REC) -> MpcRoom:
    ids = itertools.count(1)
    ctx = RoomContext(Settings(recordings_dir=REC_DIR, record_base_url="http://media/r"),
                      new_id=lambda: f"id{next(ids)}")
    return MpcRoom(NAME, ctx, settings, T0)


def event(room, action, member_id, uuid, **headers):
    return ConferenceEvent.from_event(conference_event(action, room.fs_name, uid=UID,
                                                       member_id=member_id, uuid=uuid, **headers))


def enter(room, call, member_id, now, role=Role.CUSTOMER, **participant):
    room.join(seat(call, role, room.settings, **participant), now)
    room.entry_flags(call)
    return room.apply(event(room, "add-member", member_id, call), now)


def commands_of(decisions) -> list[Command]:
    return [d for d in decisions if isinstance(d, Command) and d.token.startswith("mpc-rec")]


def answer(room, decisions, now, text="+OK Success\n", what=None) -> list:
    """Answer the recording component's commands among `decisions` (those of `what` only)."""
    out = []
    for command in commands_of(decisions):
        if what is None or command.token.endswith(" " + what):
            reply = f"+OK {command.cmd.split('origination_uuid=')[1].split(',')[0]}\n" \
                if command.token.endswith(" originate") and text.startswith("+OK") else text
            out += room.apply(CommandDone(command.token, reply), now)
    return out


def hooks(decisions) -> list[dict]:
    return [dict(d.webhook.params) for d in decisions
            if isinstance(d, Emit) and d.webhook.kind.startswith("mpc-") and "Recording"
            in d.webhook.params.get("EventName", "")]


def start_recording(room, now, recorder_id=90):
    """Answer the originate, let the recorder in, answer what follows; the decisions."""
    decisions = answer(room, room.decisions, now, what="originate")
    decisions += room.apply(event(room, "add-member", recorder_id, room.recorder.recorder_uuid),
                            now)
    out = list(decisions)
    out += answer(room, decisions, now, what="relate-first")
    out += answer(room, out, now, what="start")
    return out


def test_room_capacity_leaves_the_recorder_a_seat():
    assert mpc_recording.room_capacity(REC) == 11
    assert mpc_recording.room_capacity(MpcSettings()) == 10


def test_one_participant_starts_the_recording_with_its_callbacks():
    """recordMinMemberCount=1: the first participant in the Active MPC: the recorder is
    originated into the room, recording starts once it is in, MPCRecordingInitiated, the
    start sound to the participant; at the end stop, Completed, the recorder hung up."""
    room = make()
    decisions = enter(room, "c1", 5, T0 + 1)
    (originate,) = [c for c in commands_of(decisions)]
    assert originate.cmd.startswith("originate {origination_uuid=rec-id2,")
    assert originate.cmd.endswith(f"&conference({room.fs_name}@default)")
    assert originate.make_dir == REC_DIR
    room.decisions = decisions
    started = start_recording(room, T0 + 2)
    assert [c.cmd for c in commands_of(started)] == [
        "uuid_record rec-id2 start /var/rec/id1_id2.wav",
        f"conference {room.fs_name} play '{{play_id=rec-1}}file_string://tone_stream://%(500,0,900)' 5",
    ]
    (initiated,) = hooks(started)
    assert initiated == {
        "EventName": "MPCRecordingInitiated", "EventTimestamp": "1970-01-01 00:16:42+00:00",
        "RecordingDuration": "0", "RecordingStartTime": "1970-01-01 00:16:42+00:00",
        "RecordingEndTime": "", "RecordingFormat": "wav",
        "RecordingURL": "http://media/r/id1_id2.wav",
        "RecordingResourceURL": "http://media/r/id1_id2.wav", "RecordingUUID": "id2",
        "SequenceNumber": "1", "MPCName": NAME, "MPCUUID": "id1"}
    answer(room, started, T0 + 2, what="play")
    hook = [d for d in started if isinstance(d, Emit)][0].webhook
    assert hook.key == "mpc-id1" and hook.url == "http://app/rec" and hook.method == "POST"
    _, gone = room.leave("c1", T0 + 12, hung_up=True)
    (stop,) = commands_of(gone)
    assert stop.cmd == "uuid_record rec-id2 stop /var/rec/id1_id2.wav"
    assert not room.done
    length = answer(room, gone, T0 + 12.4)
    assert [c.cmd for c in commands_of(length)] == ["uuid_getvar rec-id2 record_ms"]
    stopped = answer(room, length, T0 + 12.5, text="9980")
    (completed,) = hooks(stopped)
    assert completed["EventName"] == "MPCRecordingCompleted"
    assert completed["RecordingDuration"] == "10" and completed["SequenceNumber"] == "2"
    assert completed["RecordingEndTime"] == "1970-01-01 00:16:52+00:00"
    assert [c.cmd for c in commands_of(stopped)] == ["uuid_kill rec-id2 NORMAL_CLEARING"]
    answer(room, stopped, T0 + 13)
    assert room.recorder.done and room.done


def test_two_participants_needed_then_pause_and_resume():
    """recordMinMemberCount=2: nothing with one; the second starts it; down to one (the
    other stays alone) pauses it, two again resume; the paused time is not counted."""
    room = make(attrs.evolve(REC, record_min_member_count=2, start_recording_sound=None))
    assert commands_of(enter(room, "c1", 5, T0 + 1, stay_alone=True)) == []
    room.decisions = enter(room, "a1", 6, T0 + 2, Role.AGENT, stay_alone=True)
    assert [c.token.split(" ")[1] for c in commands_of(room.decisions)] == ["originate"]
    start_recording(room, T0 + 3)
    _, gone = room.leave("a1", T0 + 8, hung_up=True)
    assert [c.cmd for c in commands_of(gone)] == ["uuid_record rec-id2 pause /var/rec/id1_id2.wav"]
    (paused,) = hooks(answer(room, gone, T0 + 8))
    assert (paused["EventName"], paused["RecordingDuration"], paused["SequenceNumber"]) == (
        "MPCRecordingPaused", "5", "2")
    back = enter(room, "a2", 7, T0 + 20, Role.AGENT, stay_alone=True)
    assert [c.cmd for c in commands_of(back)] == ["uuid_record rec-id2 resume /var/rec/id1_id2.wav"]
    (resumed,) = hooks(answer(room, back, T0 + 20))
    assert resumed["EventName"] == "MPCRecordingResumed" and resumed["SequenceNumber"] == "3"
    _, gone = room.leave("c1", T0 + 25, hung_up=True)
    (paused,) = hooks(answer(room, gone, T0 + 25))
    assert paused["RecordingDuration"] == "10" and paused["SequenceNumber"] == "4"
    _, gone = room.leave("a2", T0 + 26, hung_up=True)  # the last: the MPC ends
    (stop,) = commands_of(gone)
    assert stop.cmd == "uuid_record rec-id2 stop /var/rec/id1_id2.wav"
    length = answer(room, gone, T0 + 26)
    (completed,) = hooks(answer(room, length, T0 + 26, text="-ERR No such channel!\n"))
    assert completed["EventName"] == "MPCRecordingCompleted" and completed["SequenceNumber"] == "5"
    assert completed["RecordingDuration"] == "10"  # 5 s, then 5 s after the resume


def test_without_the_coach_voice_the_recorder_does_not_hear_supervisors():
    """recordCoachVoice=false: relate <recorder> <supervisor> nohear before the recording
    starts (the start waits for its answer), and for a supervisor who joins later."""
    room = make(attrs.evolve(REC, record_coach_voice=False, start_recording_sound=None))
    room.decisions = enter(room, "s1", 4, T0 + 1, Role.SUPERVISOR)
    room.decisions += enter(room, "c1", 5, T0 + 1)
    decisions = answer(room, room.decisions, T0 + 2, what="originate")
    decisions += room.apply(event(room, "add-member", 90, room.recorder.recorder_uuid), T0 + 2)
    assert [c.cmd.split(" ", 2)[2] for c in commands_of(decisions)] == ["relate 90 4 nohear"]
    started = answer(room, decisions, T0 + 2, what="relate-first")
    assert [c.cmd for c in commands_of(started)] == [
        "uuid_record rec-id2 start /var/rec/id1_id2.wav"]
    answer(room, started, T0 + 2)
    later = enter(room, "s2", 8, T0 + 5, Role.SUPERVISOR)
    assert [c.cmd.split(" ", 2)[2] for c in commands_of(later)] == ["relate 90 8 nohear"]
    assert room.recorder.related == {4, 8}


def test_with_the_coach_voice_nothing_is_related():
    room = make(attrs.evolve(REC, record_coach_voice=None, start_recording_sound=None))
    room.decisions = enter(room, "s1", 4, T0 + 1, Role.SUPERVISOR)
    started = start_recording(room, T0 + 2)
    assert [c.cmd for c in commands_of(started)] == [
        "uuid_record rec-id2 start /var/rec/id1_id2.wav"]


def test_a_refused_originate_is_failed(caplog):
    room = make()
    decisions = enter(room, "c1", 5, T0 + 1)
    with caplog.at_level(logging.ERROR):
        failed = answer(room, decisions, T0 + 2, text="-ERR NORMAL_TEMPORARY_FAILURE\n")
    (hook,) = hooks(failed)
    assert hook["EventName"] == "MPCRecordingFailed" and hook["RecordingStartTime"] == ""
    assert [r.getMessage() for r in caplog.records] == [
        f"MPC {NAME} (id1): recording failed: originate: -ERR NORMAL_TEMPORARY_FAILURE"]
    assert room.recorder.state == mpc_recording.DONE


def test_the_recorder_leaving_on_its_own_is_failed():
    room = make(attrs.evolve(REC, start_recording_sound=None))
    room.decisions = enter(room, "c1", 5, T0 + 1)
    start_recording(room, T0 + 2)
    gone = room.apply(event(room, "del-member", 90, room.recorder.recorder_uuid), T0 + 7)
    (hook,) = hooks(gone)
    assert (hook["EventName"], hook["RecordingDuration"]) == ("MPCRecordingFailed", "5")
    assert [c.cmd for c in commands_of(gone)] == ["uuid_kill rec-id2 NORMAL_CLEARING"]


def test_the_mpc_ending_before_the_recorder_got_in_records_nothing():
    room = make()
    decisions = enter(room, "c1", 5, T0 + 1)
    answer(room, decisions, T0 + 2, what="originate")
    _, gone = room.leave("c1", T0 + 3, hung_up=True)
    assert [c.cmd for c in commands_of(gone)] == ["uuid_kill rec-id2 NORMAL_CLEARING"]
    assert hooks(gone) == []


def test_the_lost_connection_fails_the_recording_at_once():
    room = make(attrs.evolve(REC, start_recording_sound=None))
    room.decisions = enter(room, "c1", 5, T0 + 1)
    start_recording(room, T0 + 2)
    room.decisions = enter(room, "c2", 6, T0 + 3, record_participant_track=True)
    lost = room.lost_connection(T0 + 4)
    (hook,) = hooks(lost)
    assert hook["EventName"] == "MPCRecordingFailed" and not room.recorder.done
    # the commands in flight are answered -ERR: the track's start fails, the rest is ignored
    late = answer(room, lost + room.decisions, T0 + 4, text="-ERR no inbound connection\n")
    assert [h["EventName"] for h in hooks(late)] == ["ParticipantRecordingFailed"]
    assert room.recorder.done


def test_participant_track_from_its_entry_to_its_exit():
    """recordParticipantTrack: uuid_record on its own call (RECORD_READ_ONLY) once it is in
    the Active MPC; its Participant Recording callbacks carry MemberID; the MPC is not
    recorded (record=false)."""
    room = make(attrs.evolve(REC, record=False))
    decisions = enter(room, "c1", 5, T0 + 1, record_participant_track=True)
    (start,) = commands_of(decisions)
    assert start.cmd == "uuid_record c1 start /var/rec/id1_id2.wav 0 {RECORD_READ_ONLY=true}"
    assert start.call_uuid == "c1" and start.make_dir == REC_DIR
    (initiated,) = hooks(answer(room, decisions, T0 + 1))
    assert initiated["EventName"] == "ParticipantRecordingInitiated"
    assert initiated["MemberID"] == "5" and "MPCUUID" not in initiated
    _, gone = room.leave("c1", T0 + 4, hung_up=True)
    (stop,) = commands_of(gone)
    assert stop.cmd == "uuid_record c1 stop /var/rec/id1_id2.wav"
    (completed,) = hooks(answer(room, gone, T0 + 4, text="-ERR Cannot locate session!\n"))
    assert (completed["EventName"], completed["MemberID"], completed["RecordingDuration"],
            completed["SequenceNumber"]) == ("ParticipantRecordingCompleted", "5", "3", "2")
    assert room.recorder.done


def test_recording_names_are_served_like_conference_recordings():
    from plivoxml_fs.rooms import recordings

    name = recordings.recording_name("0a4c2a4e-5a59-4e0a-9d3a-1f6f2b8f2a11",
                                     "9b1d3c3e-2f3e-4a4b-8c8d-0e0f1a1b2c2d", "mp3")
    assert recordings.is_recording_name(name)


def test_no_callback_url_no_callbacks_but_still_a_recording():
    room = make(attrs.evolve(REC, recording_callback_url=None, start_recording_sound=None))
    room.decisions = enter(room, "c1", 5, T0 + 1)
    started = start_recording(room, T0 + 2)
    assert hooks(started) == [] and room.recorder.state == mpc_recording.RECORDING


def test_a_refused_relate_still_records_with_one_warning(caplog):
    """FreeSWITCH refusing the recorder's relate: one WARNING naming the MPC and the
    supervisor's call; the recording starts all the same."""
    room = make(attrs.evolve(REC, record_coach_voice=False, start_recording_sound=None))
    room.decisions = enter(room, "s1", 4, T0 + 1, Role.SUPERVISOR)
    decisions = answer(room, room.decisions, T0 + 2, what="originate")
    decisions += room.apply(event(room, "add-member", 90, room.recorder.recorder_uuid), T0 + 2)
    with caplog.at_level(logging.WARNING):
        started = answer(room, decisions, T0 + 2, text="-ERR relationship 90->4 not found.\n",
                         what="relate-first")
    assert [c.cmd for c in commands_of(started)] == [
        "uuid_record rec-id2 start /var/rec/id1_id2.wav"]
    assert [r.getMessage() for r in caplog.records] == [
        f"MPC {NAME} (id1): the recorder may hear supervisor call s1: "
        "-ERR relationship 90->4 not found."]


def test_stop_while_the_mpc_goes_on_plays_the_stop_sound():
    """`stop` (the control API's): stopRecordingAudio to each participant, then the file is
    stopped and Completed; the MPC goes on."""
    room = make(attrs.evolve(REC, start_recording_sound=None,
                             stop_recording_sound="tone_stream://%(300,0,700)"))
    room.decisions = enter(room, "c1", 5, T0 + 1, stay_alone=True)
    start_recording(room, T0 + 2)
    stopping = room.recorder.stop(room, T0 + 5)
    assert [c.cmd.split(" ", 2)[2] for c in commands_of(stopping)] == [
        "play '{play_id=rec-1}file_string://tone_stream://%(300,0,700)' 5",
        "stop /var/rec/id1_id2.wav"]
    length = answer(room, stopping, T0 + 5)
    (completed,) = hooks(answer(room, length, T0 + 5, text="3000"))
    assert (completed["EventName"], completed["RecordingDuration"]) == (
        "MPCRecordingCompleted", "3")
    assert room.status.value == "Active"


def test_the_mpc_ending_before_the_originate_is_answered_records_nothing():
    room = make()
    decisions = enter(room, "c1", 5, T0 + 1)
    _, gone = room.leave("c1", T0 + 2, hung_up=True)
    assert commands_of(gone) == [] and hooks(gone) == []
    late = answer(room, decisions, T0 + 3, what="originate")
    assert [c.cmd for c in commands_of(late)] == ["uuid_kill rec-id2 NORMAL_CLEARING"]
    assert hooks(late) == []
    answer(room, late, T0 + 3)
    assert room.recorder.done and room.done
