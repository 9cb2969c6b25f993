"""Room names as users write them, end to end: run on the embedded FreeSWITCH and a real one.

`My Conf Room`, `Tikrīt`, `Gasteiz / Vitoria` and a 256-character name: two callers of each
name meet in one FreeSWITCH room (the room's id from rooms/names.py, in the `conference`
application's argument and in `conference <id> list`), and every callback says the name as
written. Two names with one slug (`My Conf Room`, `My/Conf/Room`) are two rooms. Who hears whom,
from audio, says the same. Each name ends with a per-run tag so runs never share a room.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from conference.hearing import Party, everyone_but, heard, measure
from conference.scene import Caller, Scene
from plivoxml_fs.rooms.names import MAX_ROOM_NAME_CHARS, fs_room_name


def _tag() -> str:
    return uuid.uuid4().hex[:6]


def long_name(tag: str) -> str:
    """MAX_ROOM_NAME_CHARS characters: spaces, `/`, `@`, `+`, `,` and a Unicode letter."""
    text = f"{tag} " + "Gasteiz / Vitoria, Tikrīt @ Ban Selaphum + " * 8
    return text[:MAX_ROOM_NAME_CHARS - 1] + "!"


def _doc(name: str, attrs: str = "") -> str:
    return (f'<Response><Conference callbackUrl="{{base}}/cb" action="{{base}}/action" '
            f'redirect="false" {attrs}>{escape(name)}</Conference><Hangup/></Response>')


def _meet(scene: Scene, name: str, first_to: str) -> tuple[Caller, Caller]:
    """Two callers join room `name`; returns them once both entered."""
    a = scene.call(first_to, _doc(name))
    b = scene.call(str(int(first_to) + 1), _doc(name))
    for caller in (a, b):
        scene.entered(caller)
    return a, b


def _one_room(scene: Scene, name: str, callers: list[Caller]) -> None:
    """The callers are the members of one FreeSWITCH room, the id of `name`, and every enter
    callback says `name` and that room's uuid."""
    room_id = fs_room_name(name)
    enters = [scene.entered(c) for c in callers]
    assert {e["ConferenceName"] for e in enters} == {name}
    assert len({e["ConferenceUUID"] for e in enters}) == 1 and enters[0]["ConferenceUUID"]
    in_room = scene.wait(f"{len(callers)} members in {room_id}",
                         lambda: len(scene.members(room_id)) == len(callers)
                         and scene.members(room_id))
    assert sorted(line.split(";")[2] for line in in_room) == sorted(e["CallUUID"] for e in enters)
    for enter in enters:  # FreeSWITCH was given the id, never the name as written
        (arg,) = [data for app, data in scene.apps(enter["CallUUID"]) if app == "conference"]
        assert arg.startswith(f"{room_id}@")


def _leave(scene: Scene, name: str, callers: list[Caller]) -> None:
    """Hang up the callers: exit callbacks and action URLs say `name`."""
    scene.leave(callers)
    scene.flush()
    for caller in callers:
        (exit_,) = scene.callbacks("/cb", caller.to, "exit")
        assert exit_["ConferenceName"] == name
        (action,) = scene.app.of("/action", caller.to)
        assert action["ConferenceName"] == name
        assert action["ConferenceExitReason"] == "hangup"


def free_text_names_meet(scene: Scene) -> None:
    """Two callers of each free-text name share one room; callbacks carry the name."""
    tag = _tag()
    rooms = [f"My Conf Room {tag}", f"Tikrīt {tag}", f"Gasteiz / Vitoria {tag}", long_name(tag)]
    assert len(rooms[-1]) == MAX_ROOM_NAME_CHARS
    met = {name: _meet(scene, name, f"{7401 + 10 * i}") for i, name in enumerate(rooms)}
    for name, callers in met.items():
        _one_room(scene, name, list(callers))
    for name, callers in met.items():
        _leave(scene, name, list(callers))


def names_with_one_slug_are_two_rooms(scene: Scene) -> None:
    """`My Conf Room` and `My/Conf/Room` read alike in FreeSWITCH's ids, and are two rooms:
    each caller is alone in its own, with its own ConferenceUUID."""
    tag = _tag()
    spaced, slashed = f"My Conf Room {tag}", f"My/Conf/Room {tag}"
    assert fs_room_name(spaced).split("--")[0] == fs_room_name(slashed).split("--")[0]
    a = scene.call("7501", _doc(spaced))
    b = scene.call("7502", _doc(slashed))
    _one_room(scene, spaced, [a])
    _one_room(scene, slashed, [b])
    assert scene.entered(a)["ConferenceUUID"] != scene.entered(b)["ConferenceUUID"]
    _leave(scene, spaced, [a])
    _leave(scene, slashed, [b])


def callers_of_one_name_hear_each_other_only(scene: Scene) -> None:
    """Three callers of `Gasteiz / Vitoria` hear each other, from audio; a caller of
    `Gasteiz/Vitoria` (the same slug) hears none of them and is heard by none. The scene
    carries `record_dir` and `time_scale`."""
    tag = _tag()
    name, near = f"Gasteiz / Vitoria {tag}", f"Gasteiz/Vitoria {tag}"
    assert fs_room_name(name).split("--")[0] == fs_room_name(near).split("--")[0]
    callers = [scene.call(to, _doc(name)) for to in ("7601", "7602", "7603")]
    apart = scene.call("7604", _doc(near))
    try:
        _one_room(scene, name, callers)
        _one_room(scene, near, [apart])
        hearing = measure(scene.api, [Party(c.to, c.a_leg) for c in [*callers, apart]],
                          scene.record_dir, time_scale=scene.time_scale)
        expected = {**everyone_but(["7601", "7602", "7603"]), "7604": set()}
        assert heard(hearing) == expected, str(hearing)
    finally:
        _leave(scene, name, callers)
        _leave(scene, near, [apart])
