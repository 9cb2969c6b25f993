"""Members and playbacks of the embedded FreeSWITCH's conference (conference.py's rooms).

`Member`: one channel in a room (its flags, event headers, list line, queued DTMF out).
`Playback`: a file playing to the room or to one member, with play-file(-member)-done when it
ends or is stopped (a member's `say:` is a speech node: no done event).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import gevent
import gevent.event
import gevent.lock
import gevent.queue

from plivoxml_fs.simulator.audio import Speech, frame_ms, now_ms, signal_of
from plivoxml_fs.simulator.channels import Channel

if TYPE_CHECKING:
    from plivoxml_fs.simulator.conference import Room

#: Media ms between one relayed/sent digit and the next (digits.txt: 20 ms apart).
DTMF_GAP_MS = 20
#: What `w` and `W` in a sent DTMF string wait instead of sending a digit, in ms.
DTMF_PAUSES_MS = {"w": 500, "W": 1000}
#: Default energy level of a member (profile energy-level).
ENERGY_LEVEL = 100
FRAME_MS = 20
#: The silence before the room's hold music plays again (CONF_DEFAULT_LEADIN: 20 frames).
LEADIN_MS = 400


class Playback:
    """A file playing to the room or to one member; play-file-done when it ends or is stopped."""

    def __init__(self, room: Room, source: str, *, member: Member | None, is_async: bool,
                 mux: bool = True, params: list[tuple[str, str]] | None = None,
                 shown: str | None = None, speech: bool = False, repeat: bool = False,
                 leadin_ms: int = 0) -> None:
        self.room, self.source, self.member, self.is_async = room, source, member, is_async
        # silence before the file, with its turn held (conference_file_play's leadin, frames)
        self.leadin_ms = leadin_ms
        # the room's hold music: played again each time it ends, with a play-file-done each
        # time (measured on 1.10.12: a 3 s WAV as the wait sound, done events 3.4 s apart)
        self.repeat = repeat
        # a member's `say:` (speech node): no done event; stopped once begun, the rest of what
        # it had to say stays in the member's TTS handle and is said first by its next `say:`
        self.speech = speech
        self.begun = gevent.event.Event()  # it has the room's (or its member's) turn
        self.params = params or []  # the file's {k=v} params, copied into its done event
        self.shown = shown or source  # its File header (with the params prefix)
        self.mux = mux  # False: the member hears this file alone (a hold file)
        self.stop = gevent.event.Event()
        self.ms = 0
        self.done = gevent.event.Event()
        # a room file started while the room ends (an endconf member's exit sound) is cut
        # before its first frame: FreeSWITCH reports it done at 0 ms, heard by nobody
        self.cut = room.ending and member is None

    def run(self, ms: int | None, lock: gevent.lock.Semaphore | None) -> None:
        if lock is not None:
            lock.acquire()
        try:
            self.begun.set()
            clock = self.room.sim.clock
            if self.leadin_ms and self.stop.wait(clock.wall_s(self.leadin_ms)):
                self.ms = 0
                self.room.file_done(self)
                return
            start = clock.now_us()
            mixer = self.room.mixer
            signal = Speech(ms or 0) if self.speech else signal_of(self.room.sim.media,
                                                                    self.source)
            length = signal.ms if self.repeat and ms is None and not self.cut else ms
            while True:
                span = mixer.file_started(signal,
                                          frame_ms(start // 1000), 0 if self.cut else length,
                                          member=None if self.member is None else self.member.id,
                                          mux=self.mux)
                gevent.wait([self.stop], timeout=None if length is None else clock.wall_s(length))
                mixer.file_stopped(span, frame_ms(now_ms(self.room.sim)))
                if not self.repeat or length is None or self.stop.is_set():
                    break
                self.ms = length  # it ended: done, and it starts again after the lead-in
                self.room.file_done(self, again=True)
                start = clock.now_us()
                if self.stop.wait(clock.wall_s(LEADIN_MS)):
                    break
                start = clock.now_us()
            if self.repeat and length is not None:
                ms = length
            if self.cut:
                self.ms = 0
            elif self.stop.is_set():
                self.ms = (clock.now_us() - start) // 1000 // FRAME_MS * FRAME_MS
            else:
                self.ms = ms or 0
            if self.speech:
                # heard at all, its whole speech is in the TTS buffer and the rest stays there;
                # not yet, the next text replaces it (mod_flite, measured on 1.10.12)
                if self.ms and self.member is not None:
                    self.member.tts_left_ms = max(0, (ms or 0) - self.ms)
                if self in self.room.playbacks:
                    self.room.playbacks.remove(self)
            else:
                self.room.file_done(self)
        finally:
            self.done.set()
            if lock is not None:
                lock.release()


def join_energy_level(channel, default: int) -> int:
    """The member's energy level: the channel's `conference_join_energy_level` when set and
    in -1..1800 (atoi'd: a non-number is 0), else the profile's (conference_member.c
    conference_member_add, line 814 of 1.10.12)."""
    text = channel.get_var("conference_join_energy_level")
    if text is None:
        return default
    match = re.match(r"\s*([+-]?\d+)", text)
    level = int(match.group(1)) if match else 0
    return level if -2 < level < 1801 else default


class Member:
    """One channel in a room."""

    def __init__(self, room: Room, channel: Channel, member_id: int, flags: frozenset[str]):
        self.room, self.channel, self.id, self.flags = room, channel, member_id, flags
        self.can_hear = "deaf" not in flags
        self.can_speak = "mute" not in flags
        self.hold = False
        self.talking = False
        self.energy = join_energy_level(channel, room.profile.energy_level)
        self.current_energy = 0
        self.volume_in = 0
        self.volume_out = 0
        self.relations: dict[int, str] = {}
        self.gone = gevent.event.Event()
        self.reason = ""
        self.joined_us = room.sim.clock.now_us()
        self.hold_playback: Playback | None = None
        self.file_lock = gevent.lock.Semaphore()  # its `play <file> <id>` plays queue
        self.tts_left_ms = 0  # speech a stopped `say:` left in its TTS handle
        self._dtmf_out: gevent.queue.Queue = gevent.queue.Queue()
        self._dtmf_sender: gevent.Greenlet | None = None

    @property
    def moderator(self) -> bool:
        return "moderator" in self.flags

    def headers(self) -> list[tuple[str, str]]:
        """Conference, Floor, channel and member headers (conference_member_add_event_data)."""
        room = self.room
        items = room.headers()
        items.append(("Floor", _bool(room.floor is self)))
        items += self.channel.channel_headers(variables=False)
        items += [
            ("Video", "false"), ("Hear", _bool(self.can_hear)), ("See", "true"),
            ("Speak", _bool(self.can_speak)), ("Talking", _bool(self.talking)),
            ("Mute-Detect", "false"), ("Hold", _bool(self.hold)), ("Member-ID", str(self.id)),
            ("Member-Type", "moderator" if self.moderator else "member"),
            ("Member-Ghost", "false"), ("Energy-Level", str(self.energy)),
            ("Current-Energy", str(self.current_energy)),
        ]
        return items

    def list_flags(self) -> str:
        hearing = self.can_hear and not self.hold  # on hold the list shows `hold` alone
        speaking = self.can_speak and not self.hold
        flags = [name for name, on in (
            ("hear", hearing), ("speak", speaking), ("talking", self.talking),
            ("hold", self.hold), ("floor", self.room.floor is self), ("moderator", self.moderator),
            ("endconf", "endconf" in self.flags),
        ) if on]
        return "|".join(flags)

    def list_line(self) -> str:
        profile = dict(self.channel.profile)
        return ";".join([
            str(self.id), self.channel.name, self.channel.uuid,
            profile.get("Caller-ID-Name", ""), profile.get("Caller-ID-Number", ""),
            self.list_flags(), str(self.volume_in), str(self.volume_out), str(self.energy),
        ])

    def leave(self, reason: str) -> None:
        """Ask the member to leave the room; its conference application does the rest."""
        if not self.gone.is_set():
            self.reason = reason
            self.gone.set()

    def send_dtmf(self, digits: str) -> None:
        """Digits sent out to this member's caller (the loopback partner hears them), one every
        DTMF_GAP_MS, in the order they were sent."""
        for digit in digits:
            self._dtmf_out.put(digit)
        if self._dtmf_sender is None or self._dtmf_sender.dead:
            self._dtmf_sender = gevent.spawn(self._send_queued)

    def _send_queued(self) -> None:
        target = self.channel.partner or self.channel
        while not self._dtmf_out.empty():
            digit = self._dtmf_out.get()
            # `w`/`W` are pauses, not digits (switch_core_session_send_dtmf)
            pause_ms = DTMF_PAUSES_MS.get(digit)
            gevent.sleep(self.room.sim.clock.wall_s(pause_ms or DTMF_GAP_MS))
            if pause_ms is None:
                target.receive_dtmf(digit)


def _bool(value: bool) -> str:
    return "true" if value else "false"
