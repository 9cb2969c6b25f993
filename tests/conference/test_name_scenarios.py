"""Room names as users write them, through the daemon and the embedded FreeSWITCH."""

from __future__ import annotations

from conference import name_scenarios
from conference.conftest import TIME_SCALE


def test_free_text_names_meet(scene):
    """My Conf Room, Tikrīt, Gasteiz / Vitoria, 256 characters: one room per name."""
    name_scenarios.free_text_names_meet(scene())


def test_names_with_one_slug_are_two_rooms(scene):
    """My Conf Room and My/Conf/Room are two rooms."""
    name_scenarios.names_with_one_slug_are_two_rooms(scene())


def test_callers_of_one_name_hear_each_other_only(scene, tmp_path):
    """From audio: one room per name, the near name apart."""
    built = scene()
    built.record_dir = tmp_path / "heard"
    built.time_scale = TIME_SCALE
    name_scenarios.callers_of_one_name_hear_each_other_only(built)
