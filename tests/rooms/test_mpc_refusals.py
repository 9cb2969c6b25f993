"""What the MPC room does with a command FreeSWITCH refuses (rooms/mpc_media.py `answered`):
one WARNING naming the MPC by its friendly name and MPCUUID, the member and the command; a
refused coach `relate` is forgotten, so the room's view stays FreeSWITCH's and the next
change sets it again; every callback is still emitted in order."""

from __future__ import annotations

import logging

from plivoxml_fs.rooms.model import Command, CommandDone, Role
from rooms.test_mpc import T0, cmds, enter, make, seat, status


def _relates(decisions):
    return [d for d in decisions if isinstance(d, Command) and " relate " in d.cmd]


def test_a_refused_relate_is_forgotten_and_set_again_at_the_next_change(caplog):
    room = make()
    room.join(seat("a1", Role.AGENT), T0)
    enter(room, "a1", 1)
    room.join(seat("s1", Role.SUPERVISOR, coach_mode=True), T0)
    enter(room, "s1", 2)
    room.join(seat("c1"), T0)
    joined = enter(room, "c1", 3)
    (relate,) = _relates(joined)
    assert relate.cmd == "conference mpc-mpc-uuid-1 relate 2 3 nospeak"
    with caplog.at_level(logging.WARNING):
        assert room.apply(CommandDone(relate.token, "-ERR Member 3 not found\n"), T0 + 2) == []
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == ("MPC sales (mpc-uuid-1): member 2: FreeSWITCH refused "
                    "'conference mpc-mpc-uuid-1 relate 2 3 nospeak': -ERR Member 3 not found")
    assert (2, 3) not in room.related
    room.join(seat("c2"), T0)
    again = enter(room, "c2", 4)
    assert [c for c in cmds(again) if c.startswith("relate")] == [
        "relate 2 3 nospeak", "relate 2 4 nospeak"]
    sequence = [int(p["SequenceNumber"]) for p in status(joined) + status(again)]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)


def test_an_accepted_relate_is_kept():
    room = make()
    room.join(seat("s1", Role.SUPERVISOR, coach_mode=True), T0)
    enter(room, "s1", 2)
    room.join(seat("c1"), T0)
    (relate,) = _relates(enter(room, "c1", 3))
    room.apply(CommandDone(relate.token, "+OK 2->3 nospeak set\n"), T0 + 2)
    assert (2, 3) in room.related
