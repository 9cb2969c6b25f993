"""A live synthesiser through a real FreeSWITCH 1.10.12's unicast: one 20 ms playAudio every
20 ms, most frames sent at once, none lost (tests/aiagent/test_pacing_live.py)."""

from __future__ import annotations

from aiagent.pacing_cases import run
from aiagent.test_pacing_live import check_live


def test_live_spurts_are_heard_whole(freeswitch, socket_port, tmp_path):
    result = run(freeswitch, socket_port, tmp_path, live=True)
    print("at once:", result["at_once"], "of", result["frames_out"])
    check_live(result)
