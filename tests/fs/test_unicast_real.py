"""`unicast` on a real FreeSWITCH 1.10.12: the exchange tests/aiagent/test_unicast.py holds the
embedded FreeSWITCH to (tests/aiagent/unicast_cases.py)."""

from __future__ import annotations

from aiagent.unicast_cases import check, exchange


def test_unicast_exchange(freeswitch, socket_port, tmp_path):
    result = exchange(freeswitch, socket_port, tmp_path)
    print(result)
    check(result)
