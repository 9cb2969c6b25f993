"""Add participant's document (api/mpc_add.py): the SDK's body as `<MultiPartyCall>`
attributes, checked as any document; no FreeSWITCH needed."""

from __future__ import annotations

import pytest

from plivoxml_fs.api.mpc_add import document
from plivoxml_fs.api.server import ApiError
from plivoxml_fs.documents import parse_document

#: What the SDK's add_participant always sends (its defaults), besides role and the numbers.
SDK_DEFAULTS = {
    "call_status_callback_method": "POST", "confirm_key_sound_method": "GET",
    "dial_music": "real", "ring_timeout": 45, "delay_dial": 0, "max_duration": 14400,
    "max_participants": 10, "record_min_member_count": 1, "wait_music_method": "GET",
    "agent_hold_music_method": "GET", "customer_hold_music_method": "GET",
    "recording_callback_method": "GET", "status_callback_method": "GET",
    "on_exit_action_method": "POST", "record": False, "record_participant_track": False,
    "record_file_format": "mp3",
    "status_callback_events": "mpc-state-changes,participant-state-changes",
    "stay_alone": False, "coach_mode": True, "mute": False, "hold": False,
    "start_mpc_on_enter": True, "end_mpc_on_exit": False, "relay_dtmf_inputs": False,
    "enter_sound": "beep:1", "enter_sound_method": "GET", "exit_sound": "beep:2",
    "exit_sound_method": "GET", "start_recording_audio_method": "GET",
    "stop_recording_audio_method": "GET", "create_mpc_with_single_participant": True,
    "send_on_preanswer": False, "transcript": False,
}


def _mpc(text: str):
    (verb,) = parse_document(text.encode(), source="t", max_bytes=65536).verbs
    return verb


def test_the_sdk_body_becomes_the_document():
    body = {**SDK_DEFAULTS, "role": "agent", "from": "1555", "to": "1666", "mute": True,
            "status_callback_url": "http://app/mpc?a=1&b=2", "relay_dtmf_inputs": True}
    mpc = _mpc(document("Sales & <Support>", "agent", body))
    assert mpc.role.lower() == "agent" and mpc.mute is True and mpc.relay_dtmf_inputs is True
    assert mpc.status_callback_url == "http://app/mpc?a=1&b=2"
    assert mpc.max_duration == 14400 and mpc.enter_sound == "beep:1"


def test_a_name_that_is_not_a_parameter_or_a_bad_value_is_400_naming_it():
    with pytest.raises(ApiError) as unknown:
        document("room", "agent", {"colour": "blue"})
    assert unknown.value.status == 400 and unknown.value.error.startswith("colour:")
    with pytest.raises(ApiError) as bad:
        document("room", "agent", {**SDK_DEFAULTS, "max_duration": 5})
    assert bad.value.status == 400 and "maxDuration" in bad.value.error
    with pytest.raises(ApiError) as nested:
        document("room", "agent", {"mute": {"x": 1}})
    assert nested.value.error.startswith("mute:")
