"""The MPC releasing a member that hangs up at the same moment (rooms/mpc.py): seen on a real
FreeSWITCH 1.10.12 when a call centre's three callers hung up together (replay
--hangup-after): the customer's exit left the agent alone (1010), the MPC sent `hup <agent>`,
and FreeSWITCH, which had already taken the agent out for its own hangup, answered `-ERR
Non-Existant ID`. The member is gone either way: no WARNING for it."""

from __future__ import annotations

import logging

from plivoxml_fs.rooms.model import Command, CommandDone, Role
from rooms.test_mpc import T0, enter, make, seat


def _hup_of_a_left_alone_agent(room):
    room.join(seat("c1"), T0)
    enter(room, "c1", 1)
    room.join(seat("a1", Role.AGENT), T0)
    enter(room, "a1", 2)
    _, decisions = room.leave("c1", T0 + 5, hung_up=True)
    (hup,) = [d for d in decisions if isinstance(d, Command) and d.cmd.endswith(" hup 2")]
    return hup


def test_a_hup_of_a_member_already_gone_is_not_a_warning(caplog):
    room = make()
    hup = _hup_of_a_left_alone_agent(room)
    with caplog.at_level(logging.DEBUG, logger="plivoxml_fs.rooms"):
        assert room.apply(CommandDone(hup.token, "-ERR Non-Existant ID 2\n"), T0 + 5) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    (line,) = [r.getMessage() for r in caplog.records if "already gone" in r.getMessage()]
    assert line.startswith("MPC sales (mpc-uuid-1): member 2 already gone")


def test_any_other_refused_hup_is_still_a_warning(caplog):
    room = make()
    hup = _hup_of_a_left_alone_agent(room)
    with caplog.at_level(logging.WARNING):
        room.apply(CommandDone(hup.token, "-ERR Conference mpc-x not found\n"), T0 + 5)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "FreeSWITCH refused" in line and "hup 2" in line
