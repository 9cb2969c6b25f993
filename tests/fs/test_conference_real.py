"""The conference scenarios of tests/conference/ against a real FreeSWITCH.

The daemon listens on 127.0.0.1:8084 (or PLIVOXML_FS_TEST_SOCKET_PORT), where the test
configuration's dialplan sends calls (../shared/tools/run-freeswitch.sh); its inbound connection
and the scene's observer use the real event socket. Skipped, with the reason, when no FreeSWITCH answers (see conftest.py).
"""

from __future__ import annotations

import pytest
from conference import name_scenarios, recording_scenarios, scenarios, transcription_scenarios
from conference.scene import Scene

from fs.real import real_scene


@pytest.fixture
def scene(freeswitch, socket_port, tmp_path):
    # The test configuration's `default` profile plays local_stream://moh itself, which wins
    # over conference_moh_sound; its `wideband` profile, like the profiles we ship in
    # freeswitch/, has no music of its own, so waitSound is heard there.
    yield from real_scene(freeswitch, socket_port, tmp_path, hang_up=True,
                          conference_profile="wideband")


def recorded_room_posts_its_transcription(scene: Scene) -> None:
    """The transcription scenario with two of "back after meeting" enough: a real
    mod_conference mixes in real time, and on a loaded machine its recording of the WAV is
    rougher (README, Transcription accuracy): in one of four full runs here the
    all-three-words assertion failed."""
    transcription_scenarios.recorded_room_posts_its_transcription(scene, enough=2)


def recorded_mp3_room_posts_its_transcription(scene: Scene) -> None:
    """recordFileFormat="mp3" (the default): mod_shout's MP3 is decoded (miniaudio) and
    transcribed as the WAV is (the embedded FreeSWITCH writes silent MP3 frames: nothing to
    hear there)."""
    transcription_scenarios.recorded_room_posts_its_transcription(scene, fmt="mp3", enough=2)


SCENARIOS = [
    scenarios.two_callers_meet,
    scenarios.muted_member_cannot_speak,
    scenarios.hangup_on_star_leaves_and_goes_on,
    scenarios.action_redirect_fetches_the_next_document,
    scenarios.callback_method_get,
    scenarios.digits_match_reports_patterns,
    scenarios.relay_dtmf_reaches_other_members,
    scenarios.floor_event_when_taking_the_floor,
    scenarios.room_full_is_told_apart,
    scenarios.max_members_one_locks_the_room,
    scenarios.time_limit_ends_the_room,
    scenarios.moderator_starts_and_ends_the_room,
    scenarios.caller_hangs_up_in_the_room,
    scenarios.beeps_on_entry_and_exit,
    scenarios.join_commands_and_variables,
    scenarios.recorded_room_reports_its_recording,
    scenarios.wait_sound_document_plays_while_waiting,
    scenarios.a_failing_sound_url_is_skipped,
    name_scenarios.free_text_names_meet,
    name_scenarios.names_with_one_slug_are_two_rooms,
    name_scenarios.callers_of_one_name_hear_each_other_only,
    scenarios.record_when_alone_false_waits_for_a_second_member,
    recording_scenarios.record_when_alone_false_pauses_while_one_is_left,
    recorded_room_posts_its_transcription,
    recorded_mp3_room_posts_its_transcription,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario_on_real_freeswitch(scene: Scene, scenario):
    """The scenario passes on a real FreeSWITCH as it does on the embedded one."""
    scenario(scene)
