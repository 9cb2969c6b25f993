"""Conference scenarios through the daemon and the embedded FreeSWITCH."""

from __future__ import annotations

from conference import scenarios


def test_two_callers_meet(scene):
    """Two callers meet; enter/exit callbacks; the room ends with stayAlone=false."""
    scenarios.two_callers_meet(scene())


def test_muted(scene):
    """muted="true" joins without speak."""
    scenarios.muted_member_cannot_speak(scene())


def test_hangup_on_star(scene):
    """`*` leaves the room and the document goes on."""
    scenarios.hangup_on_star_leaves_and_goes_on(scene())


def test_action_redirect(scene):
    """redirect=true fetches the action URL as the next document."""
    scenarios.action_redirect_fetches_the_next_document(scene())


def test_callback_method_get(scene):
    """callbackMethod=GET."""
    scenarios.callback_method_get(scene())


def test_digits_match(scene):
    """digitsMatch patterns are reported."""
    scenarios.digits_match_reports_patterns(scene())


def test_relay_dtmf(scene):
    """relayDTMF passes digits on (or not)."""
    scenarios.relay_dtmf_reaches_other_members(scene())


def test_floor_event(scene):
    """floorEvent reports taking the floor."""
    scenarios.floor_event_when_taking_the_floor(scene())


def test_room_full(scene):
    """maxMembers: the member who finds the room full is told apart."""
    scenarios.room_full_is_told_apart(scene())


def test_max_members_one(scene):
    """maxMembers=1 locks the room."""
    scenarios.max_members_one_locks_the_room(scene())


def test_time_limit(scene):
    """timeLimit ends the room."""
    scenarios.time_limit_ends_the_room(scene())


def test_moderated_room(scene):
    """startConferenceOnEnter / endConferenceOnExit / waitSound."""
    scenarios.moderator_starts_and_ends_the_room(scene())


def test_caller_hangs_up_in_the_room(scene):
    """Callbacks in order when the caller hangs up in the room."""
    scenarios.caller_hangs_up_in_the_room(scene())


def test_inbound_lost(scene):
    """The inbound connection lost with members in a room."""
    scenarios.inbound_lost_members_carry_on(scene())


def test_beeps(scene):
    """enterSound/exitSound beeps are played to the room."""
    scenarios.beeps_on_entry_and_exit(scene())


def test_join_commands_and_variables(scene):
    """The variables and the conference application the daemon sends to join."""
    scenarios.join_commands_and_variables(scene())


def test_recorded_room(scene):
    """record="true": the room's recording and its record callback."""
    scenarios.recorded_room_reports_its_recording(scene())


def test_recorded_room_ended_before_its_last_member_leaves(scene):
    """The last member's exit callback and action URL carry the room's RecordUrl and RecordingID
    even when the room's end (conference-destroy) is read before that member leaves: the room,
    not the member, owns the recording (the order a loaded machine can give, forced here)."""
    from plivoxml_fs.rooms.model import RoomState

    s = scene()
    rooms = s.daemon.rooms
    name = scenarios.room("recend")
    attrs_ = 'record="true" hangupOnStar="true" action="{base}/action" redirect="false"'
    a = s.call("1511", scenarios.doc(name, attrs_, "<Hangup/>"))
    enter_a = s.entered(a)
    b = s.call("1512", scenarios.doc(name, attrs_, "<Hangup/>"))
    last = s.entered(b)["CallUUID"]
    real_leave = rooms.leave

    def leave(call_uuid: str, **kw):
        if call_uuid == last:
            room = rooms.room_of(call_uuid)
            s.wait("the room's end read first", lambda: room.state == RoomState.ENDED)
        return real_leave(call_uuid, **kw)

    rooms.leave = leave
    s.dtmf(a, "*")
    s.hung_up(a)
    s.dtmf(b, "*")
    s.hung_up(b)
    s.flush()
    wanted = (enter_a["RecordUrl"], enter_a["RecordingID"])
    for c in (a, b):
        (exit_,) = s.callbacks("/cb", c.to, "exit")
        (action,) = s.app.of("/action", c.to)
        assert (exit_["RecordUrl"], exit_["RecordingID"]) == wanted
        assert (action["RecordUrl"], action["RecordingID"]) == wanted


def test_record_url_is_served_by_the_daemon(scene):
    """Without record_base_url, RecordUrl is the daemon's operator server, which serves the WAV."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = scene(metrics_port=port, record_base_url="")
    scenarios.recorded_room_reports_its_recording(s)
    (record,) = [h for h in s.app.of("/cb") if h.get("ConferenceAction") == "record"]
    assert record["RecordUrl"].startswith(f"http://127.0.0.1:{port}/recordings/")
    with urllib.request.urlopen(record["RecordUrl"], timeout=5) as reply:
        assert reply.headers["Content-Type"] == "audio/wav"
        assert reply.read(4) == b"RIFF"


def test_wait_sound_document(scene):
    """waitSound pointing at a Play/Speak/Wait document plays while members wait."""
    scenarios.wait_sound_document_plays_while_waiting(scene())


def test_failing_sound_url(scene):
    """A sound URL that fails: the member joins without the sound."""
    scenarios.a_failing_sound_url_is_skipped(scene())


def test_a_recording_that_cannot_start(scene, tmp_path, caplog):
    """recordings_dir cannot be made (a file is in the way): one ERROR naming the conference, no
    record callback, no RecordUrl; the member stays in the room and the document goes on."""
    import logging

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    s = scene(recordings_dir=str(blocker / "rec"))
    name = scenarios.room("norec")
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.call"):
        caller = s.call("1801", scenarios.doc(name, 'record="true" hangupOnStar="true"',
                                              "<Speak>still here</Speak>"))
        enter = s.entered(caller)
        s.dtmf(caller, "*")
        s.hung_up(caller)
    s.flush()
    assert "RecordUrl" not in enter
    assert [h["ConferenceAction"] for h in s.callbacks("/cb", caller.to)] == ["enter", "exit"]
    (line,) = [r.getMessage() for r in caplog.records if "recording" in r.getMessage()]
    assert line.startswith(f"call {enter['CallUUID']}: conference {name}: the recording could not "
                           "start: -ERR")
    s.wait("the next verb", lambda: ("speak", "flite|slt|still here") in s.apps(enter["CallUUID"]))


def test_send_digits(scene):
    """sendDigits go to the member's own phone once it is in the room."""
    scenarios.send_digits_reach_the_members_phone(scene())


def test_record_when_alone_false(scene):
    """recordWhenAlone="false" starts the recording with the second member."""
    scenarios.record_when_alone_false_waits_for_a_second_member(scene())
def test_no_recording_without_a_url_to_serve_it(scene, caplog):
    """Settings built in code with metrics_port 0 and no record_base_url: the recording does
    not start (one ERROR saying why), no RecordUrl is handed out, the caller stays in the room."""
    import logging

    s = scene(record_base_url="")
    name = scenarios.room("nourl")
    with caplog.at_level(logging.ERROR, logger="plivoxml_fs.call"):
        caller = s.call("1802", scenarios.doc(name, 'record="true" hangupOnStar="true"',
                                              "<Speak>still here</Speak>"))
        enter = s.entered(caller)
        s.dtmf(caller, "*")
        s.hung_up(caller)
    s.flush()
    assert "RecordUrl" not in enter
    (line,) = [r.getMessage() for r in caplog.records if "recording" in r.getMessage()]
    assert line == (f"call {enter['CallUUID']}: conference {name}: the recording could not "
                    "start: no URL to serve it at: metrics_port is 0 (no operator HTTP server) "
                    "and record_base_url is not set")
    s.wait("the next verb", lambda: ("speak", "flite|slt|still here") in s.apps(enter["CallUUID"]))
