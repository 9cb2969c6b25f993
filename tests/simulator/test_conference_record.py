"""Conference recordings and room/member playback of the embedded FreeSWITCH."""

from __future__ import annotations

import wave

import gevent
from waiting import until

from plivoxml_fs.simulator.media import file_ms
from simulator.conference_helpers import api, inbound, join, names_of, raw_event, wait_action
from simulator.helpers import SHARED_TRACES, trace_messages

RECORD = SHARED_TRACES / "record.txt"


def _trace_body(action: str) -> str:
    for direction, conn, text in trace_messages(SHARED_TRACES / "basic.txt"):
        if direction == "<<<" and conn == "inbound" and f"\nAction: {action}\n" in text:
            return text.split("\n\n", 1)[1]
    raise AssertionError(action)


def _room(sim, daemon, arg="roomR@default"):
    inb = inbound(sim.inbound_address)
    join(inb, daemon, "rec1", arg)
    wait_action(inb, "floor-change")
    # the profile's alone-sound (20 ms of silence) to the new room's first member
    assert wait_action(inb, "play-file-done")["File"] == "silence_stream://20"
    return inb


def test_wav_recording_lasts_the_media_time(sim, daemon, tmp_path):
    """recording start/stop: a 16-bit WAV at 8 kHz whose length is the media time recorded."""
    inb = _room(sim, daemon)
    path = tmp_path / "rec" / "room.wav"
    before_start = sim.clock.now_us()
    assert api(inb, f"conference roomR recording start {path}") == f"+OK Record file {path}\n"
    after_start = sim.clock.now_us()
    started = wait_action(inb, "start-recording")
    assert started["Path"] == str(path)
    assert api(inb, "conference roomR recording check") == f"+OK Record file {path}\n"
    gevent.sleep(sim.clock.wall_s(1000))
    before_stop = sim.clock.now_us()
    reply = api(inb, "conference roomR recording stop all")
    after_stop = sim.clock.now_us()
    assert reply == f"Stopped recording file {path}\n+OK Stopped recording 0 files\n"
    stopped = wait_action(inb, "stop-recording")
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        frames = wav.getnframes()
    file_ms = frames * 1000 // 8000
    assert (before_stop - after_start) // 1000 <= file_ms <= (after_stop - before_start) // 1000
    assert stopped["Milliseconds-Elapsed"] == str(file_ms)
    assert stopped["Samples-Out"] == str(frames)
    assert stopped["Record-File-Size"] == str(path.stat().st_size)
    assert names_of(raw_event(inb, "stop-recording")) == names_of(_trace_body("stop-recording"))
    assert names_of(raw_event(inb, "start-recording")) == names_of(
        _trace_body("start-recording"))
    assert api(inb, "conference roomR recording check") == (
        "-ERR Conference is not being recorded.\n")


def test_wideband_recording_is_16k(sim, daemon, tmp_path):
    """A wideband room records at 16000 Hz."""
    inb = _room(sim, daemon, "roomR@wideband")
    path = tmp_path / "wb.wav"
    api(inb, f"conference roomR recording start {path}")
    api(inb, f"conference roomR recording stop {path}")
    wait_action(inb, "stop-recording")
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 16000


def test_pause_excludes_time_and_fires_events(sim, daemon, tmp_path):
    """pause/resume: the events fire, and paused media time is not in the file."""
    inb = _room(sim, daemon)
    path = tmp_path / "p.wav"
    before_start = sim.clock.now_us()
    api(inb, f"conference roomR recording start {path}")
    assert api(inb, f"conference roomR recording pause {path}") == (
        f"+OK Pause recording file {path}\n")
    paused = wait_action(inb, "pause-recording")
    assert (paused["Path"], paused["Other-Recordings"]) == (str(path), "true")
    gevent.sleep(sim.clock.wall_s(2000))
    assert api(inb, f"conference roomR recording resume {path}") == (
        f"+OK Resume recording file {path}\n")
    wait_action(inb, "resume-recording")
    api(inb, f"conference roomR recording stop {path}")
    total_ms = (sim.clock.now_us() - before_start) // 1000
    stopped = wait_action(inb, "stop-recording")
    assert int(stopped["Milliseconds-Elapsed"]) <= total_ms - 2000


def test_recording_errors(sim, daemon, tmp_path):
    """Unknown recordings and a missing argument answer FreeSWITCH's texts."""
    inb = _room(sim, daemon)
    assert api(inb, "conference roomR recording") == (
        "recording [start|stop|check|pause|resume] [<filename>|all]")
    assert api(inb, "conference roomR recording stop /x.wav") == (
        "-ERR non-existant recording '/x.wav'\n+OK Stopped recording 0 files\n")
    assert api(inb, "conference roomR recording pause /x.wav") == (
        "+OK Pause recording file /x.wav\n-ERR non-existant recording '/x.wav'\n")
    assert api(inb, "conference roomR recording stop all") == "+OK Stopped recording 0 files\n"


def test_mp3_recording_writes_mp3_frames_as_mod_shout(sim, daemon, tmp_path):
    """.mp3 (mod_shout loaded): MP3 frames with the header LAME wrote on 1.10.12 (8 kHz mono
    16 kbps), as long as the media time recorded to a frame, and the usual events."""
    inb = _room(sim, daemon)
    path = tmp_path / "room.mp3"
    before_start = sim.clock.now_us()
    assert api(inb, f"conference roomR recording start {path}") == f"+OK Record file {path}\n"
    assert wait_action(inb, "start-recording")["Path"] == str(path)
    gevent.sleep(sim.clock.wall_s(1000))
    api(inb, f"conference roomR recording stop {path}")
    total_ms = (sim.clock.now_us() - before_start) // 1000
    stopped = wait_action(inb, "stop-recording")
    data = path.read_bytes()
    assert data[:4] == bytes.fromhex("ffe328c4") and len(data) % 144 == 0
    assert file_ms(path) == len(data) // 144 * 72
    assert int(stopped["Milliseconds-Elapsed"]) <= file_ms(path) < total_ms + 72


def _refused(inb, path) -> None:
    """The reply, then start-recording with Error and an empty stop-recording (1.10.12)."""
    assert api(inb, f"conference roomR recording start {path}") == f"+OK Record file {path}\n"
    started = wait_action(inb, "start-recording")
    assert (started["Path"], started["Error"]) == (str(path),
                                                   "File could not be opened for recording")
    stopped = wait_action(inb, "stop-recording")
    assert [stopped[h] for h in ("Path", "Other-Recordings", "Samples-Out", "Samplerate",
                                 "Milliseconds-Elapsed")] == [str(path), "false", "0", "8000", "0"]
    assert stopped.get("Record-File-Size") is None
    assert api(inb, "conference roomR recording check") == (
        "-ERR Conference is not being recorded.\n")


def test_mp3_refused_without_mod_shout(sim, daemon, tmp_path):
    """conferences.mp3 off: the file cannot be opened, as FreeSWITCH 1.10.12 after
    `unload mod_shout`; no file is written."""
    sim.conferences.mp3 = False
    inb = _room(sim, daemon)
    _refused(inb, tmp_path / "room.mp3")
    assert not (tmp_path / "room.mp3").exists()


def test_room_destroyed_stops_its_recordings(sim, daemon, tmp_path):
    """The last member leaving writes the file: stop-recording before conference-destroy."""
    inb = _room(sim, daemon)
    path = tmp_path / "end.wav"
    api(inb, f"conference roomR recording start {path}")
    api(inb, "conference roomR kick all")
    wait_action(inb, "conference-destroy")
    seen = [m.event().get("Action") for _, m in inb.received if m.is_event]
    assert seen.index("stop-recording") < seen.index("conference-destroy")
    assert path.exists()


def test_room_play_events_and_length(sim, daemon, tmp_path):
    """play <wav> async: play-file then play-file-done with the file's length."""
    source = tmp_path / "beep.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 2400)  # 300 ms
    inb = _room(sim, daemon)
    assert api(inb, f"conference roomR play {source} async") == (
        f"+OK (play) Playing file {source}\n")
    play = wait_action(inb, "play-file")
    assert (play["File"], play["Async"]) == (str(source), "true")
    done = wait_action(inb, "play-file-done")
    # reported twice over, as FreeSWITCH 1.10.12 does; the room heard 300 ms
    assert (done["milliseconds"], done["samples"], done["seconds"]) == ("600", "4800", "0")
    assert play["Async"] == "true"


def test_member_play_and_errors(sim, daemon):
    """play <file> <id>: play-file-member and -done with member headers; unknown member/file."""
    inb = _room(sim, daemon)
    assert api(inb, "conference roomR play tone_stream://%(200,0,700) 1") == (
        "+OK (play) Playing file tone_stream://%(200,0,700) to member 1\n")
    done = wait_action(inb, "play-file-member-done")
    assert (done["Member-ID"], done["File"], done["milliseconds"]) == (
        "1", "tone_stream://%(200,0,700)", "400")  # basic.txt: 400 for this 200 ms tone
    assert api(inb, "conference roomR play tone_stream://%(200,0,700) 9") == (
        "-ERR Member: 9 not found.\nplay <file_path> [async|<member_id> [nomux]]")
    assert api(inb, "conference roomR play") == "play <file_path> [async|<member_id> [nomux]]"


def test_hold_with_music_until_unhold(sim, daemon):
    """hold <id> local_stream://moh: hold-member; unhold: unhold-member then
    play-file-member-done (media.txt)."""
    inb = _room(sim, daemon)
    assert api(inb, "conference roomR hold 1 local_stream://moh") == "+OK hold 1\n"
    assert wait_action(inb, "hold-member")["Hold"] == "true"
    flags = api(inb, "conference roomR list").split(";")[5].split("|")
    assert flags[0] == "hold" and "hear" not in flags  # hear/speak hidden, seen on 1.10.12
    assert api(inb, "conference roomR unhold 1") == "+OK unhold 1\n"
    assert wait_action(inb, "unhold-member")["Hold"] == "false"
    assert wait_action(inb, "play-file-member-done")["File"] == "local_stream://moh"


def test_floor_commands(sim, daemon):
    """floor on the holder releases it (`+OK floor none`) and the newest speaker takes it at
    once, as on FreeSWITCH 1.10.12; a held floor cannot be taken."""
    inb = _room(sim, daemon)
    join(inb, daemon, "rec2", "roomR")
    wait_action(inb, "add-member", member_id="2")
    assert api(inb, "conference roomR floor 2") == "-ERR floor is held by 1\n"
    assert api(inb, "conference roomR floor 1") == "+OK floor none\n"
    released = wait_action(inb, "floor-change")
    assert (released["Old-ID"], released["New-ID"], released.get("Member-ID")) == (
        "1", "none", None)
    assert wait_action(inb, "floor-change", member_id="2")["New-ID"] == "2"
    assert api(inb, "conference roomR floor 1") == "-ERR floor is held by 2\n"
    api(inb, "conference roomR mute 2")
    assert api(inb, "conference roomR floor 2") == "+OK floor none\n"
    assert wait_action(inb, "floor-change", member_id="1")["New-ID"] == "1"
    assert api(inb, "conference roomR hup all") == "+OK hup 2\n+OK hup 1\n"


def test_queued_play_and_stop(sim, daemon):
    """`play` without async queues (Async false); stop current / async / all stop files and
    fire their done events with FreeSWITCH's reply texts."""
    inb = _room(sim, daemon)
    assert api(inb, "conference roomR stop all") == "+OK Stopped 0 files.\n"
    api(inb, "conference roomR play silence_stream://60000")
    assert wait_action(inb, "play-file")["Async"] == "false"
    api(inb, "conference roomR play silence_stream://60000")
    api(inb, "conference roomR play silence_stream://60000 async")
    assert api(inb, "conference roomR stop current") == "+OK Stopped 1 files.\n"
    assert wait_action(inb, "play-file-done").get("Async") is None
    assert api(inb, "conference roomR stop async") == "+OK Stopped 1 files.\n"
    assert wait_action(inb, "play-file-done")["Async"] == "true"
    assert api(inb, "conference roomR stop all") == "+OK Stopped 1 files.\n"
    assert api(inb, "conference roomR stop bogus") == (
        "stop <[current|all|async|last]> [<member_id>]")
    member = sim.conferences.rooms["roomR"].members[1]
    assert api(inb, "conference roomR get-uuid 1") == member.channel.uuid


def test_recording_that_cannot_start(sim, daemon, tmp_path):
    """A path under a regular file: `+OK Record file`, then start-recording with Error and an
    empty stop-recording, as FreeSWITCH 1.10.12 answered the same path."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    inb = _room(sim, daemon)
    _refused(inb, blocker / "x.wav")


def test_a_stopped_member_say_leaves_its_rest_for_the_next(sim, daemon):
    """A `say:` stopped once heard keeps the rest of its speech in the member's TTS handle:
    the next `say:` says that rest, then its own; one stopped before it began (queued behind
    another play) is replaced by the next text (FreeSWITCH 1.10.12, mod_flite). No
    play-file-member-done fires for a speech."""
    from plivoxml_fs.simulator.media import speak_ms

    inb = _room(sim, daemon)
    room = sim.conferences.rooms["roomR"]
    member = room.members[1]
    text = "one two three four five six seven eight nine ten"
    assert api(inb, f"conference roomR play 'say:#kal#{text}' 1") == (
        f"+OK (play) Playing file say:#kal#{text} to member 1\n")
    assert wait_action(inb, "play-file-member")["File"] == f"say:#kal#{text}"
    (speech,) = [p for p in room.playbacks if p.member is member]
    assert speech.begun.wait(5)
    began = sim.clock.now_us()
    until("half a second of it said", lambda: sim.clock.now_us() - began > 500_000)
    assert api(inb, "conference roomR play 'say:#kal#queued' 1").startswith("+OK")
    assert api(inb, "conference roomR stop all 1") == "+OK Stopped 2 files.\n"
    left = member.tts_left_ms
    assert 0 < left <= speak_ms(text)  # the queued one left nothing: it never began
    api(inb, "conference roomR play 'say:#kal#ok' 1")
    (again,) = [p for p in room.playbacks if p.member is member]
    assert member.tts_left_ms == 0
    assert again.done.wait(30)
    assert again.ms == left + speak_ms("ok")
    actions = [m.event().get("Action") for _, m in inb.received if m.is_event]
    assert "play-file-member-done" not in actions, actions
