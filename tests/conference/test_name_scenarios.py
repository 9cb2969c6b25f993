"""Room names as users write them, through the daemon and the embedded FreeSWITCH."""

from __future__ import annotations

from conference import name_scenarios


def test_free_text_names_meet(scene):
    """My Conf Room, Tikrīt, Gasteiz / Vitoria, 256 characters: one room per name."""
    name_scenarios.free_text_names_meet(scene())


def test_names_with_one_slug_are_two_rooms(scene):
    """My Conf Room and My/Conf/Room are two rooms."""
    name_scenarios.names_with_one_slug_are_two_rooms(scene())
