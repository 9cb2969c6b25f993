"""Conference test helpers: members joined through the daemon stub, and the events they cause.

Work against the embedded FreeSWITCH and a real one alike: `join` needs only an inbound Wire
that can originate and a daemon that hands out each call's Wire.
"""

from __future__ import annotations

from urllib.parse import unquote

from simulator.helpers import Wire, execute, header_names

MAINTENANCE = "conference::maintenance"


class Member:
    """One member's call: its A-leg uuid, B-leg (member) uuid and outbound Wire."""

    def __init__(self, a_uuid: str, b_uuid: str, wire: Wire) -> None:
        self.a_uuid, self.b_uuid, self.wire = a_uuid, b_uuid, wire


def inbound(address, events: str = f"CUSTOM {MAINTENANCE}") -> Wire:
    wire = Wire.connect(address)
    wire.read()
    assert wire.command("auth ClueCon").reply_text == "+OK accepted"
    assert wire.command(f"event plain {events}").reply_text.startswith("+OK")
    return wire


def api(wire: Wire, command: str, timeout: float = 5.0) -> str:
    """Send `api <command>` and return the reply body; events read meanwhile stay in received."""
    wire.send(f"api {command}")
    for message in wire.until(lambda m: m.content_type == "api/response", timeout):
        if message.content_type == "api/response":
            return message.body.decode()
    raise AssertionError(f"no api/response to {command}")


def join(inb: Wire, daemon, tag: str, arg: str, *, sets=(), subscribe: bool = True,
         app_uuid: str | None = None) -> Member:
    """Originate aleg-<tag>; its socket: myevents, CUSTOM conference::maintenance, answer,
    `set` each of `sets`, then the conference application with `arg`."""
    inb.send(f"bgapi originate {{origination_uuid=aleg-{tag}}}loopback/{tag}/default &park")
    wire = daemon.next_call()
    b_uuid = wire.command("connect").get("Unique-ID")
    assert wire.command("myevents").reply_text == "+OK Events Enabled"
    if subscribe:
        wire.command(f"event plain CUSTOM {MAINTENANCE}")
    execute(wire, "answer")
    for item in sets:
        execute(wire, "set", item, header=True)
    execute(wire, "conference", arg, header=True, uuid=app_uuid or f"conf-{tag}")
    return Member(f"aleg-{tag}", b_uuid, wire)


def conference_events(wire: Wire) -> list:
    """The conference::maintenance events this wire has received so far, parsed."""
    return [m.event() for _, m in wire.received
            if m.is_event and m.event().subclass == MAINTENANCE]


def raw_event(wire: Wire, action: str) -> str:
    """The body text of the first `action` event this wire received."""
    for raw, message in wire.received:
        if message.is_event and message.event().get("Action") == action:
            return raw.decode().split("\n\n", 1)[1]
    raise AssertionError(f"no {action} event received")


def wait_action(wire: Wire, action: str, timeout: float = 5.0, member_id: str | None = None):
    """The first event with this Action (and Member-ID) not returned before: one already
    received (e.g. while waiting for an api reply) or the next to arrive."""
    claimed = wire.__dict__.setdefault("claimed", set())

    def check(message) -> bool:
        if not message.is_event or id(message) in claimed:
            return False
        event = message.event()
        return event.get("Action") == action and (
            member_id is None or event.get("Member-ID") == member_id)

    for _, message in wire.received:
        if check(message):
            claimed.add(id(message))
            return message.event()
    message = wire.until(check, timeout)[-1]
    claimed.add(id(message))
    return message.event()


def drain(wire: Wire, quiet_s: float = 0.3) -> None:
    """Read until nothing arrives for `quiet_s`."""
    while not wire.quiet(quiet_s):
        pass


def actions(events) -> list[str]:
    return [f"{e.get('Action')} {e.get('Member-ID') or ''}".strip() for e in events]


def names_of(text: str) -> list[str]:
    """Header names of an event body, duplicates kept, in order."""
    return header_names(unquote(text))


def wait_alone(wire: Wire) -> dict:
    """The play-file-done of the profile's alone-sound (20 ms of silence after the 400 ms
    leadin) that a new room's first member brings: waited for where a test reads the room's
    later events in order, as the traces were recorded on a profile without alone-sound."""
    done = wait_action(wire, "play-file-done")
    assert done["File"] == "silence_stream://20", done
    return done
