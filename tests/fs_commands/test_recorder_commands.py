"""The recorder member's and leg recordings' strings (plivoxml_fs/fs/recorder.py), byte for byte."""

from __future__ import annotations

import pytest

from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import recorder


def test_recorder_originate():
    assert recorder.recorder_originate("mpc-1", "default", "rec-1") == (
        "originate {origination_uuid=rec-1,originate_timeout=10,"
        "conference_member_flags_mute=true,conference_member_flags_nomoh=true,"
        "conference_enter_sound=silence_stream://20,conference_exit_sound=silence_stream://20,"
        "conference_controls=none,RECORD_WRITE_ONLY=true}"
        "loopback/^^!answer!sched_hangup:+28860!park/default/inline &conference(mpc-1@default)")
    assert "sched_hangup:+360!" in recorder.recorder_originate("r", "default", "x", max_s=360)
    with pytest.raises(ValueError):
        recorder.recorder_originate("r", "default", "x", max_s=0)


@pytest.mark.parametrize("room,profile,uuid", [
    ("a b", "default", "rec-1"), ("a|b", "default", "rec-1"), ("room", "de fault", "rec-1"),
    ("room", "default", "rec 1"), ("room", "default", "rec,1"),
])
def test_recorder_originate_refuses_what_would_split_it(room, profile, uuid):
    with pytest.raises(UnsafeValue):
        recorder.recorder_originate(room, profile, uuid)


def test_uuid_record():
    assert recorder.uuid_record("rec-1", "start", "/var/rec/u_1.wav") == (
        "uuid_record rec-1 start /var/rec/u_1.wav")
    assert recorder.uuid_record("rec-1", "pause", "/var/rec/u_1.mp3") == (
        "uuid_record rec-1 pause /var/rec/u_1.mp3")
    assert recorder.uuid_record("leg-2", "start", "/r/t.wav", read_only=True) == (
        "uuid_record leg-2 start /r/t.wav 0 {RECORD_READ_ONLY=true}")


@pytest.mark.parametrize("action,path", [
    ("mask", "/r/a.wav"), ("start", "r/a.wav"), ("start", "/r/a b.wav"), ("start", "/r/a.ogg"),
    ("start", "/r/a.wav\n"),
])
def test_uuid_record_refuses(action, path):
    with pytest.raises(ValueError):
        recorder.uuid_record("rec-1", action, path)


def test_uuid_kill():
    assert recorder.uuid_kill("rec-1") == "uuid_kill rec-1 NORMAL_CLEARING"
    with pytest.raises(UnsafeValue):
        recorder.uuid_kill("rec-1", "normal clearing")
