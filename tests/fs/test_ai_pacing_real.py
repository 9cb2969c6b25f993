"""Talk spurts after silence through a real FreeSWITCH 1.10.12's unicast: the first frame of
each goes at once, none is lost (tests/aiagent/pacing_cases.py)."""

from __future__ import annotations

from aiagent.pacing_cases import check, run


def test_spurts_are_heard_whole(freeswitch, socket_port, tmp_path):
    check(run(freeswitch, socket_port, tmp_path))
