"""What a `<Conference>` room (room.py) and an MPC (mpc.py) share: dropping an event seen twice,
opening on the room's first event, and the commands sent and not yet answered."""

from __future__ import annotations

import collections
from typing import Any

from plivoxml_fs.fs.events import ConferenceEvent
from plivoxml_fs.rooms.model import Command, RoomState

#: How many Event-Sequence numbers a room remembers to drop an event it got twice.
SEEN_EVENTS = 512


class RoomBase:
    """The event and command bookkeeping of one room; the subclass sets `uid` and `state`."""

    uid: str | None
    state: RoomState

    def __init__(self) -> None:
        self._seen: collections.deque[str] = collections.deque(maxlen=SEEN_EVENTS)
        self._tokens = 0
        self._sent: dict[str, str] = {}  # token of a command not yet answered -> its member

    def _first_sight(self, event: ConferenceEvent) -> bool:
        """False for an event already seen (its Event-Sequence); else the room takes the
        conference's uid from it and a claimed room is open."""
        sequence = event.get("Event-Sequence")
        if sequence:
            if sequence in self._seen:
                return False
            self._seen.append(sequence)
        if self.uid is None:
            self.uid = event.conference_uid
        if self.state == RoomState.CLAIMED:
            self.state = RoomState.OPEN
        return True

    def _issue(self, cmd: str, tag: str, call_uuid: str, **fields: Any) -> Command:
        """The Command `cmd` under the token `<tag>#<n> <cmd>` (n counts this room's tokens),
        remembered for `call_uuid` until its CommandDone."""
        self._tokens += 1
        command = Command(cmd, f"{tag}#{self._tokens} {cmd}", call_uuid, **fields)
        self._sent[command.token] = call_uuid
        return command
