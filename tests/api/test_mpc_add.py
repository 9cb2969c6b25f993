"""Add participant's document (api/mpc_add.py): the SDK's body as `<MultiPartyCall>`
attributes, checked as any document; and its dial parameters (api/mpc_dial.py), each taken
or refused with a 400 naming it; no FreeSWITCH needed."""

from __future__ import annotations

import pytest

from plivoxml_fs.api import mpc_dial
from plivoxml_fs.api.mpc_add import DIAL_NAMES, document
from plivoxml_fs.api.server import ApiError, ApiRequest
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


# --- the dial's own parameters (api/mpc_dial.py): honoured, or 400 naming them ---------------


def _request(**params) -> ApiRequest:
    body = {**SDK_DEFAULTS, "role": "agent", "from": "1555", "to": "1666", **params}
    return ApiRequest("POST", "/", "MAPLIVOXMLFSTEST0001", {}, body, "api-1")


def _refused(name: str, **params) -> str:
    with pytest.raises(ApiError) as refused:
        mpc_dial.dial_parameters(_request(**params), "agent", mpc_exists=True)
    assert refused.value.status == 400 and refused.value.error.startswith(f"{name}:"), \
        refused.value.error
    return refused.value.error


def test_the_sdk_defaults_dial_one_leg_without_a_race():
    """The SDK's defaults: ring 45 s, no delay, no key: one originate, no race."""
    dial = mpc_dial.dial_parameters(_request(), "agent", mpc_exists=True)
    assert (dial.tos, dial.rings, dial.delays, dial.key) == (("1666",), (45,), (0,), "")
    assert dial.racing is False and dial.caller_name == "1555"


def test_per_leg_times_confirm_key_headers_and_digits_are_taken():
    """ring_timeout/delay_dial per `to` (missing ones: 45 s / 0), confirm_key with its
    sound, sip_headers, send_digits and the status callback."""
    dial = mpc_dial.dial_parameters(_request(
        to="1666<1777<1888", ring_timeout="20<30", delay_dial="0<5", confirm_key="#",
        confirm_key_sound_url="https://app/confirm.xml", confirm_key_sound_method="post",
        sip_headers="Team=Blue,Tier=2", send_digits="1w2",
        call_status_callback_url="https://app/status"), "agent", mpc_exists=True)
    assert dial.rings == (20, 30, 45) and dial.delays == (0, 5, 0) and dial.racing
    assert (dial.key, dial.sound_url, dial.sound_method) == ("#", "https://app/confirm.xml",
                                                             "POST")
    assert dial.headers == (("Team", "Blue"), ("Tier", "2")) and dial.send_digits == "1w2"
    assert (dial.status_url, dial.status_method) == ("https://app/status", "POST")


def test_what_cannot_be_done_is_400_naming_it():
    """Each refusal names its parameter and says why."""
    _refused("confirm_key", confirm_key="12", confirm_key_sound_url="https://app/c")
    assert "required" in _refused("confirm_key_sound_url", confirm_key="5")
    _refused("confirm_key_sound_method", confirm_key="5",
             confirm_key_sound_url="https://app/c", confirm_key_sound_method="PUT")
    _refused("ring_timeout", ring_timeout="121")
    _refused("ring_timeout", ring_timeout="20<20")  # more values than numbers
    _refused("delay_dial", delay_dial="-1")
    assert "real, none or an http(s) URL" in _refused("dial_music", dial_music="music.xml")
    _refused("send_on_preanswer", send_on_preanswer=True)
    _refused("send_digits", send_digits="1 2")
    _refused("sip_headers", sip_headers="X-Bad=1")
    _refused("call_status_callback_url", call_status_callback_url="ftp://app/s")
    _refused("call_status_callback_url", call_status_callback_url="https://app/s?a=1,2")
    with pytest.raises(ApiError) as alone:
        mpc_dial.dial_parameters(_request(create_mpc_with_single_participant=False), "agent",
                                 mpc_exists=False)
    assert alone.value.error.startswith("create_mpc_with_single_participant:")


def test_dial_music_real_none_or_a_url_and_a_moved_call_without_dial_asks():
    """dial_music real/none (no music) and a URL are taken; a moved call with the SDK's
    defaults passes, with a dial parameter that asks something it is 400 naming it."""
    for music in ("Real", "none"):
        got = mpc_dial.dial_parameters(_request(dial_music=music), "agent", mpc_exists=True)
        assert got.music_url == ""
    url = "https://app/music.xml"
    assert mpc_dial.dial_parameters(_request(dial_music=url), "agent",
                                    mpc_exists=True).music_url == url
    moved = {k: v for k, v in _request().params.items() if k not in ("from", "to")}
    mpc_dial.check_move(ApiRequest("POST", "/", "A", {}, moved, "x"), mpc_exists=True)
    with pytest.raises(ApiError) as asked:
        mpc_dial.check_move(ApiRequest("POST", "/", "A", {}, {**moved, "delay_dial": 3}, "x"),
                            mpc_exists=True)
    assert asked.value.error.startswith("delay_dial:")


def test_every_dial_name_is_handled():
    """Each body name that is not a <MultiPartyCall> attribute is taken by the dial, the move,
    the path, or refused (docs/api.md's table): none is left to be ignored."""
    handled = {*mpc_dial.DIAL_ONLY, "role", "from", "to", "call_uuid", "uuid", "friendly_name",
               "callback_url", "callback_method", "call_status_callback_method",
               "confirm_key_sound_method", "create_mpc_with_single_participant"}
    assert handled == DIAL_NAMES
def test_an_ai_agent_body_becomes_its_document():
    """role ai-agent: the ai_agent_stream_* names are the element's aiAgentStream* attributes
    (camelCase too), the extra headers a JSON object."""
    body = {"ai_agent_stream_service_url": "wss://ai.example.com/s",
            "aiAgentStreamContentType": "audio/x-mulaw;rate=8000",
            "ai_agent_stream_extra_headers": {"userId": "12345", "k": "v"},
            "ai_agent_stream_status_callback_url": "http://app/ai", "ai_agent_hears": "Customer",
            "coach_mode": False}
    mpc = _mpc(document("room", "ai-agent", body))
    assert mpc.role == "ai-agent" and mpc.ai_agent_stream_service_url == "wss://ai.example.com/s"
    assert mpc.ai_agent_stream_content_type == "audio/x-mulaw;rate=8000"
    assert mpc.ai_agent_stream_extra_headers == (("userId", "12345"), ("k", "v"))
    assert mpc.ai_agent_hears == ("Customer",) and mpc.coach_mode is False


@pytest.mark.parametrize(("body", "message"), [
    ({}, 'ai_agent_stream_service_url (aiAgentStreamServiceUrl): is required with '
         'role="ai-agent"'),
    ({"ai_agent_stream_service_url": "http://ai/s"},
     "ai_agent_stream_service_url (aiAgentStreamServiceUrl): must be an absolute ws(s) URL"),
    ({"aiAgentStreamServiceUrl": "ws://ai/s", "ai_agent_stream_content_type": "audio/wav"},
     "ai_agent_stream_content_type (aiAgentStreamContentType): must be one of"),
    ({"aiAgentStreamServiceUrl": "ws://ai/s", "ai_agent_stream_sampling_rate": 44100},
     "ai_agent_stream_sampling_rate (aiAgentStreamSamplingRate): must be one of"),
    ({"aiAgentStreamServiceUrl": "ws://ai/s", "max_duration": 3},
     "max_duration (maxDuration): must be an integer 300..28800"),
])
def test_an_ai_agent_problem_names_the_body_parameter(body, message):
    """A document problem is a 400 naming the body's parameter and the attribute (one not
    given is named in the API's snake_case)."""
    with pytest.raises(ApiError) as refused:
        document("room", "ai-agent", body)
    assert refused.value.status == 400 and refused.value.error.startswith(message), \
        refused.value.error


def test_stream_attributes_are_refused_for_other_roles_naming_them():
    """An aiAgentStream* parameter with another role is a 400 naming it."""
    with pytest.raises(ApiError) as refused:
        document("room", "agent", {"ai_agent_stream_service_url": "ws://ai/s"})
    assert refused.value.error.startswith("ai_agent_stream_service_url (aiAgentStreamServiceUrl)"
                                          ': is only allowed with role="ai-agent"')
