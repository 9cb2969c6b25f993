"""What the control API reads of a room (rooms/views.py) and the one way it changes one
(`RoomEngine.decide`): snapshots that later inputs do not change, the engine's clock given to
the input, and no control API module reaching for a private member."""

from __future__ import annotations

import ast
from pathlib import Path

import attrs
import pytest

from plivoxml_fs.config import Settings
from plivoxml_fs.rooms import mpc_control
from plivoxml_fs.rooms.model import RoomContext, RoomSettings, Seat
from plivoxml_fs.rooms.mpc_model import MpcState
from plivoxml_fs.rooms.registry import RoomEngine
from plivoxml_fs.testing import FakeEdge, conference_event
from rooms.test_mpc import T0, enter, make, seat
from rooms.test_mpc_control import _room as call_centre

ROOT = Path(__file__).resolve().parent.parent.parent
#: The control API's modules: they use only the rooms' public surface.
CONTROL_API = (*sorted((ROOT / "plivoxml_fs/api").glob("*.py")),
               *(ROOT / "plivoxml_fs/rooms" / f"{name}.py"
                 for name in ("control", "mpc_control", "mpc_rec_control")))


def test_an_mpc_view_is_a_snapshot_later_inputs_leave_alone():
    """The views taken before a mute, a coach-mode change and the end keep what they saw;
    new ones show the changes."""
    room = call_centre()
    before = room.view()
    (customer, agent, sup) = room.present()
    room.mute(customer.member_id, True, T0 + 2)
    room.coach(sup.member_id, True, T0 + 2)
    assert [m.muted for m in room.present()] == [True, False, False] and not customer.muted
    assert [m.coaching for m in room.present()] == [False, False, True] and not sup.coaching
    room.hangup(T0 + 3)
    assert before.status == MpcState.ACTIVE and before.ended_at is None
    assert room.view().status == MpcState.ENDED and room.view().ended_at == T0 + 3
    assert room.view().termination.code == 3000 and before.termination is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        before.status = MpcState.ENDED  # type: ignore[misc]
    assert before.creator.call_uuid == "c1" and agent.role.value == "Agent"


def test_present_leaves_out_participants_being_let_go():
    """A kicked participant is no longer present (nor named by a spec) before it leaves."""
    room = make()
    for call, member_id in (("c1", 11), ("c2", 12)):
        room.join(seat(call), T0)
        enter(room, call, member_id)
    room.kick(11, T0 + 2)
    assert [m.member_id for m in room.present()] == [12]
    assert room.member_view("c1").member_id == 11  # still seated until its verb leaves
    assert room.member_view("nobody") is None
    assert [m.member_id for m in mpc_control.participants_of(room, "all")] == [12]


def test_decide_gives_the_input_the_engines_clock_and_performs_its_decisions():
    """`decide(room, change)` runs `change(now)` with the edge's time and sends what it
    decided, the same path every room input takes."""
    edge = FakeEdge(now=5_000.0)
    rooms = RoomEngine(RoomContext(Settings(), new_id=lambda: "x"), edge)
    settings = RoomSettings(max_members=20, time_limit_s=60, wait_sound=None, record=False,
                            record_file_format="mp3")
    room, _ = rooms.join(Seat(name="r1", call_uuid="a", settings=settings))
    rooms.on_event(conference_event("add-member", room.fs_name, uid="u1", member_id=7,
                                    uuid="a", size=1))
    edge.commands.clear()
    seen = []

    def change(now):
        seen.append(now)
        return room.mute(7, True)

    rooms.decide(room, change)
    assert seen == [5_000.0] and edge.commands == [f"conference {room.fs_name} mute 7"]
    assert room.view().members[0].member_id == 7 and room.view().seats == ("a",)


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} import {a.name}"
                      for a in node.names if _private(a.name)]
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_the_control_api_uses_no_private_member_of_a_room_or_module():
    """api/ and the rooms' control inputs read snapshots and call public methods only."""
    assert [p for p in CONTROL_API if p.exists()] == list(CONTROL_API)
    assert [use for path in CONTROL_API for use in _private_uses(path)] == []
