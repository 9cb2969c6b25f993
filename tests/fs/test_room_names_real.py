"""What FreeSWITCH 1.10.12 makes of room names, and the embedded FreeSWITCH making the same.

The `conference` application's argument (sent in a sendmsg body, as the daemon sends it) and
`conference <name> ...` API strings with names users write: which room each argument makes
(Conference-Name of its add-member) and what each API string answers, on the real FreeSWITCH
and on the embedded one; the two must agree. This is why rooms/names.py sends FreeSWITCH a
safe id instead of the name: spaces split API strings, `+` starts a PIN, the last `@` a
profile, leading spaces go, `'` groups, and `conference list ...` is FreeSWITCH's own command.
Skipped, with the reason, when no FreeSWITCH answers (see conftest.py).
"""

from __future__ import annotations

import re
import uuid

from simulator.conference_helpers import MAINTENANCE, api, inbound
from simulator.helpers import Wire, execute

from fs.real import SocketStub
from plivoxml_fs.rooms.names import fs_room_name
from plivoxml_fs.simulator import EmbeddedFreeSwitch

#: `conference` application arguments ({t}: a per-run tag) -> the room FreeSWITCH makes. (The
#: first `+` starts a PIN, which FreeSWITCH then asks an inbound caller for: not compared, the
#: embedded FreeSWITCH asks for no PIN.)
ARGS = {
    "My Conf Room {t}@default": "My Conf Room {t}",
    "Tikrīt {t}@default": "Tikrīt {t}",
    "{t}x@y@default": "{t}x@y",  # the last `@` starts the profile
    "   {t}lead@default": "{t}lead",  # leading spaces go
    "{t}trail @default": "{t}trail ",  # trailing ones stay
    "{t}q'x@default": "{t}q'x",
    "{t}p|x;y@default": "{t}p|x;y",
    "list@default": "list",
}
#: API strings and what is compared of their answers.
API = [
    "conference 'My Conf Room {t}' count",  # single quotes group
    'conference "My Conf Room {t}" count',  # double quotes do not
    "conference My Conf Room {t} count",
    "conference My\\ Conf\\ Room\\ {t} count",  # a backslash keeps the space and itself
    "conference {t}q\\'x count",
    "conference {t}x@y count",
    "conference '{t}trail ' count",
    "conference {t}p|x;y count",
    "conference list count",  # room `list`'s count while it lives
]
#: Asked before room `list` is made: FreeSWITCH's list of every room.
BEFORE_LIST = "conference list count"


def _added(inb: Wire, b_uuid: str) -> str:
    """The Conference-Name of the add-member of channel `b_uuid`."""
    def mine(message) -> bool:
        return (message.is_event and message.event().subclass == MAINTENANCE
                and message.event().get("Action") == "add-member"
                and message.event().get("Unique-ID") == b_uuid)

    for _, message in inb.received:
        if mine(message):
            return message.event()["Conference-Name"]
    return next(m for m in inb.until(mine, timeout=10)
                if mine(m)).event()["Conference-Name"]


def _shown(reply: str, tag: str) -> str:
    if reply.startswith("+OK Conference "):
        return "+OK Conference ... (every room)"
    return re.sub(r"\d+", "N", reply.replace(tag, "{t}"))


def _scenario(address, calls, tag: str) -> tuple[list[str], list[str]]:
    """Each ARGS argument joined by its own call; the rooms made and the API answers."""
    inb = inbound(address)
    made, legs = [], []
    try:
        answers = []
        for n, template in enumerate(ARGS):
            if template.startswith("list@"):
                answers.append(_shown(api(inb, BEFORE_LIST), tag))
            a_leg = f"names-{tag}-{n}"
            inb.send(f"bgapi originate {{origination_uuid={a_leg}}}loopback/77{n}/default &park")
            wire = calls.next_call()
            b_uuid = wire.command("connect").get("Unique-ID")
            legs.append(a_leg)
            execute(wire, "answer")
            execute(wire, "conference", template.format(t=tag))
            made.append(_added(inb, b_uuid).replace(tag, "{t}"))
        answers += [_shown(api(inb, template.format(t=tag)), tag) for template in API]
        return made, answers
    finally:
        for a_leg in legs:
            api(inb, f"uuid_kill {a_leg}")
        inb.close()


def test_freeswitch_and_the_embedded_one_read_names_alike(freeswitch, socket_port):
    """Which room each argument makes, and each API answer, on both FreeSWITCHes."""
    host, port, _ = freeswitch
    tag = uuid.uuid4().hex[:6]
    calls = SocketStub(socket_port)
    try:
        real = _scenario((host, port), calls, tag)
    finally:
        calls.stop()
    assert real[0] == list(ARGS.values())
    assert real[1][0] == "+OK Conference ... (every room)"
    assert [real[1][i] for i in (1, 5, 6, 7, 8, 9)] == ["N"] * 6  # those found their room
    stub = SocketStub(0)
    fs = EmbeddedFreeSwitch(socket_address=stub.server.address[:2], time_scale=0.2)
    fs.start()
    try:
        mine = _scenario(fs.inbound_address, stub, tag)
    finally:
        fs.stop()
        stub.stop()
    assert mine == real


def test_the_ids_we_send_are_taken_whole(freeswitch, socket_port):
    """The id of every such name is one word to both strings: a call joins the id's room and
    `conference <id> count` finds it."""
    host, port, _ = freeswitch
    tag = uuid.uuid4().hex[:6]
    names = [room.format(t=tag) for room in ARGS.values()] + [f"Gasteiz / Vitoria {tag}",
                                                              f"{tag} a+b", f"{tag}${{uuid}}"]
    calls = SocketStub(socket_port)
    inb = inbound((host, port))
    legs = []
    try:
        for n, name in enumerate(names):
            legs.append(f"ids-{tag}-{n}")
            inb.send(f"bgapi originate {{origination_uuid={legs[-1]}}}loopback/78{n}/default &park")
            wire = calls.next_call()
            b_uuid = wire.command("connect").get("Unique-ID")
            execute(wire, "answer")
            execute(wire, "conference", f"{fs_room_name(name)}@default+flags{{moderator}}")
            assert _added(inb, b_uuid) == fs_room_name(name)
            assert api(inb, f"conference {fs_room_name(name)} count") == "1"
    finally:
        for a_leg in legs:
            api(inb, f"uuid_kill {a_leg}")
        inb.close()
        calls.stop()
