"""The conference of the embedded FreeSWITCH: rooms, members and conference::maintenance events.

`Conferences` (one per EmbeddedFreeSwitch, `sim.conferences`) holds the rooms by name and the
member-id counter, which is global across rooms as on FreeSWITCH 1.10.12. The `conference`
application (`room[@profile][+flags{a|b}]`) joins a channel to a room and blocks until the member
leaves (kick, hup, endconf, mintwo, hangup-on-star, hangup). Every event carries the headers and
comes in the order the recorded traces (basic.txt, flags.txt, digits.txt, media.txt, record.txt)
show; member events carry the member's Unique-ID, so an outbound socket subscribed to
`CUSTOM conference::maintenance` gets its own member's events only, as mod_event_socket delivers.

Audio is carried as timelines (audio.py, mixer.py): each member receives the mix of the others'
audio under mute, deaf, hold and `relate`, files played to the room or a member are heard for
their media time, and a WAV recording holds the room's real mix (MP3: silent frames of the right
length). `talk(uuid, ms)` stands for audio a member sends without samples (start-talking,
floor-change, stop-talking, with talking.py's statistics). The API sub-commands are
conference_api.py's; members and playbacks are conference_member.py's;
recordings conference_recording.py's; the application conference_app.py's.
"""

from __future__ import annotations

import itertools
import uuid as uuidlib
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import gevent
import gevent.event
import gevent.lock
import gevent.queue

from plivoxml_fs.simulator.apps import DONE, wait_media
from plivoxml_fs.simulator.audio import (
    Membership,
    now_ms,
)
from plivoxml_fs.simulator.bus import Calling
from plivoxml_fs.simulator.channels import Channel
from plivoxml_fs.simulator.conference_member import (  # noqa: F401 (re-exported)
    DTMF_GAP_MS,
    DTMF_PAUSES_MS,
    ENERGY_LEVEL,
    FRAME_MS,
    LEADIN_MS,
    Member,
    Playback,
    _bool,
)
from plivoxml_fs.simulator.conference_recording import Recording, silent_mp3  # noqa: F401
from plivoxml_fs.simulator.media import speak_ms
from plivoxml_fs.simulator.mixer import RoomMixer
from plivoxml_fs.simulator.talking import (
    START_STEP,
    TONE_ENERGY,
    frame_energies,
    stop_talking_stats,
)

if TYPE_CHECKING:
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

SUBCLASS = "conference::maintenance"
DOMAIN = "cluecon.com"
#: Member flags the `+flags{...}` part may name (others are ignored, as mod_conference does).
MEMBER_FLAGS = frozenset({
    "mute", "deaf", "moderator", "endconf", "mintwo", "wait-mod", "dist-dtmf", "nomoh",
    "mute-detect", "ghost", "join-only", "positional", "join-vid-floor", "vmute",
})
#: Energy reported while a member talks: that of the frame that started it (media.txt: 6474).
TALK_ENERGY = TONE_ENERGY + START_STEP
#: Media ms between the end of a member's audio and its stop-talking (media.txt: 780 ms after
#: a 1500 ms and after a 2000 ms tone).
TALK_HANGOVER_MS = 780
#: FreeSWITCH 1.10.12 reports twice the time a file played in play-file(-member)-done
#: (seconds, milliseconds, samples): a 300 ms tone reports 600 (checked on a running instance).
FILE_TIME_FACTOR = 2
#: Wall seconds to wait for a stopped file's play-file-done.
STOP_FILE_WAIT_S = 1.0

CREATE = Calling("mod_conference.c", "conference_new", 3848)
DESTROY = Calling("mod_conference.c", "conference_thread_run", 863)
ADD = Calling("conference_member.c", "conference_member_add", 962)
DEL = Calling("conference_member.c", "conference_member_del", 1355)
FLOOR = Calling("conference_member.c", "conference_member_set_floor_holder", 1158)
FILE_DONE = Calling("conference_file.c", "conference_file_close", 52)
#: conference_file_play's play-file for a file it cannot open (1.10.12: tts://, no done event)
FILE_UNOPENED = Calling("conference_file.c", "conference_file_play", 268)
START_TALK = Calling("conference_loop.c", "conference_loop_input", 1154)
STOP_TALK = Calling("conference_loop.c", "stop_talking_handler", 783)
REC_START = Calling("conference_record.c", "conference_record_thread_run", 319)
REC_STOP = Calling("conference_record.c", "conference_record_thread_run", 427)
REC_FAILED = Calling("conference_record.c", "conference_record_thread_run", 280)


@attrs.frozen
class Profile:
    """A conference profile: what freeswitch/autoload_configs/conference.conf.xml sets."""

    name: str
    rate: int
    moh_sound: str | None = None  # "silence" in the config: none, conference_moh_sound decides
    caller_controls: str = "none"
    tts: bool = True
    # what the first member of a new room hears (conference_member_add): the profile's
    # alone-sound, played to the room; without one, with a tts-engine, FreeSWITCH says ALONE_TEXT
    # to that member. The shipped profiles set 20 ms of silence (Plivo says nothing).
    alone_sound: str | None = "silence_stream://20"
    # the members' energy level (noise gate, gate.py): the shipped profiles' 100
    energy_level: int = ENERGY_LEVEL


#: The profiles of freeswitch/autoload_configs/conference.conf.xml.
PROFILES = {
    "default": Profile("default", 8000),
    "wideband": Profile("wideband", 16000),
}
#: What conference_member_add says to a new room's first member when the profile has a
#: tts-engine and no alone-sound (1.10.12, heard from a real one).
ALONE_TEXT = "You are currently the only person in this conference."
#: Caller-control groups: digit -> action (conference.conf.xml's caller-controls).
CONTROL_GROUPS = {"none": {}, "hangup-on-star": {"*": "hangup"}}


@attrs.frozen
class JoinSpec:
    """`room[@profile][+flags{a|b}]` parsed."""

    room: str
    profile: str
    flags: frozenset[str]


def parse_join(arg: str) -> JoinSpec:
    """Split the conference application's argument as mod_conference does: `+flags{...}` cut
    first, leading spaces dropped, the first `+` starts a PIN, the last `@` the profile (a
    room may be `a@b`: `a@b@default`); trailing spaces are the room's (`trail @default` is
    room `trail `), as on FreeSWITCH 1.10.12."""
    text = arg.lstrip(" ")
    flags: frozenset[str] = frozenset()
    start = text.find("+flags{")
    if start != -1:
        end = text.find("}", start)
        inner = text[start + len("+flags{") : end if end != -1 else len(text)]
        flags = frozenset(f.strip() for f in inner.split("|") if f.strip())
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    text = text.split("+", 1)[0]
    room, at, profile = text.rpartition("@")
    if not at:
        room, profile = text, ""
    return JoinSpec(room, profile.strip() or "default", flags)


class Room:
    """A conference instance (a name is reused once the room is destroyed)."""

    def __init__(self, sim: EmbeddedFreeSwitch, name: str, profile: Profile, creator: Channel):
        self.sim, self.name, self.profile = sim, name, profile
        self.uuid = str(uuidlib.uuid4())
        self.members: dict[int, Member] = {}
        self.floor: Member | None = None
        self.locked = False
        # 1 is refused ("invalid, not setting a limit"), as mod_conference.c does
        max_members = _int(creator.get_var("conference_max_members"))
        self.max_members = 0 if max_members == 1 else max_members
        self.moh_sound = profile.moh_sound or creator.get_var("conference_moh_sound")
        self.enforce_min = False
        # CFLAG_WAIT_MOD: set by a wait-mod member's join, cleared for good by a moderator's
        self.wait_mod = False
        self.moderated = False
        self.ending = False
        self.destroyed = False
        self.recordings: list[Recording] = []
        self.playbacks: list[Playback] = []
        self.moh: Playback | None = None
        self.file_lock = gevent.lock.Semaphore()
        self.created_us = sim.clock.now_us()
        self.mixer = RoomMixer(lambda: now_ms(sim))

    def audio_changed(self) -> None:
        """Who hears whom changed (join, leave, mute, deaf, hold, relate): the mixer keeps it."""
        self.mixer.changed(list(self.members.values()), now_ms(self.sim))

    # -- events -------------------------------------------------------------------------------
    def headers(self) -> list[tuple[str, str]]:
        return [
            ("Conference-Name", self.name), ("Conference-Domain", DOMAIN),
            ("Conference-Size", str(len(self.members))), ("Conference-Ghosts", "0"),
            ("Conference-Profile-Name", self.profile.name), ("Conference-Unique-ID", self.uuid),
        ]

    def fire(self, calling: Calling, headers: list[tuple[str, str]]) -> None:
        self.sim.bus.fire(self.sim.factory.make("CUSTOM", calling, headers, subclass=SUBCLASS))

    def room_event(self, calling: Calling, action: str, extra=()) -> None:
        self.fire(calling, self.headers() + [("Action", action), *extra])

    def member_event(self, calling: Calling, member: Member, action: str, extra=()) -> None:
        self.fire(calling, member.headers() + [("Action", action), *extra])

    # -- membership ---------------------------------------------------------------------------
    def is_full(self) -> bool:
        return self.max_members > 0 and len(self.members) >= self.max_members

    def add(self, member: Member) -> None:
        if member.moderator:
            self.wait_mod, self.moderated = False, True
        elif "wait-mod" in member.flags and not self.moderated:
            self.wait_mod = True
        self.members[member.id] = member
        member.channel.audio.rooms.append(Membership(self.mixer, member.id, now_ms(self.sim)))
        self.audio_changed()
        if "mintwo" in member.flags:
            self.enforce_min = True
        self.member_event(ADD, member, "add-member")
        if self.floor is None and member.can_speak:
            self.set_floor(member)
        if self.moh is not None:  # a joining member stops the hold music; it restarts if due
            self.stop_files([self.moh])
            self.moh = None
        enter = member.channel.get_var("conference_enter_sound")
        if enter and len(self.members) > 1:  # not to a new room's first member (1.10.12)
            self.play(enter)
        self.alone(member)
        self.update_moh()

    def alone(self, member: Member) -> None:
        """A new room's first member (conference_member_add, unless the room waits for a
        moderator): the profile's alone-sound to the room (async files stopped first), or,
        with none and a tts-engine, ALONE_TEXT spoken to that member."""
        if len(self.members) != 1 or self.wait_mod:
            return
        if self.profile.alone_sound:
            # CONF_DEFAULT_LEADIN first: its done comes 440 ms after the join (1.10.12)
            self.play_alone_sound(LEADIN_MS)
        elif self.profile.tts:
            self.play(f"tts://flite|slt|{ALONE_TEXT}", member, ms=speak_ms(ALONE_TEXT),
                      speech=True)

    def play_alone_sound(self, leadin_ms: int) -> None:
        """The profile's alone-sound to the room, the room's async files stopped first."""
        self.stop_files([p for p in self.playbacks if p.member is None and p.is_async])
        self.moh = None
        self.play(self.profile.alone_sound, leadin_ms=leadin_ms)

    def remove(self, member: Member) -> None:
        """del-member, the exit sound, and the room's end when it is due."""
        if member.id not in self.members:
            return
        if member.hold_playback is not None:
            member.hold_playback.stop.set()
        if self.ending:  # the room's files stop before the members are removed (flags.txt)
            self.stop_files(list(self.playbacks))
            self.moh = None
        if self.floor is member:
            self.floor = None
            self.fire(FLOOR, self.headers() + [("Action", "floor-change"), ("Old-ID", "none"),
                                               ("New-ID", "none")])
        del self.members[member.id]
        self._left(member)
        self.member_event(DEL, member, "del-member")
        for other in self.members.values():
            other.relations.pop(member.id, None)
        if "endconf" in member.flags or (self.enforce_min and len(self.members) < 2):
            self.end()
        elif self.floor is None:
            self.fill_floor()
        exit_sound = member.channel.get_var("conference_exit_sound")
        if exit_sound and self.members:  # an ending room stops it at once (flags.txt: 0 ms)
            self.play(exit_sound)
        # one member left (conference_member_del, unless mintwo ends the room or it waits for a
        # moderator): the alone-sound again, without leadin; without one nothing is said
        if (len(self.members) == 1 and self.profile.alone_sound and not self.wait_mod
                and not self.enforce_min):
            self.play_alone_sound(0)
        if not self.members:
            self.destroy()
        else:
            self.update_moh()

    def _left(self, member: Member) -> None:
        for membership in member.channel.audio.rooms:
            if membership.mixer is self.mixer and membership.member_id == member.id:
                membership.end_ms = now_ms(self.sim)
        self.audio_changed()

    def end(self) -> None:
        """endconf / mintwo: every member leaves and (hangup_after_conference) hangs up."""
        self.ending = True
        for other in list(self.members.values()):
            other.leave("ended")

    def destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        self.stop_files(list(self.playbacks))
        for recording in list(self.recordings):
            self.stop_recording(recording)
        self.room_event(DESTROY, "conference-destroy")
        self.sim.conferences.forget(self)

    # -- floor and talking --------------------------------------------------------------------
    def set_floor(self, member: Member | None) -> None:
        old = self.floor
        self.floor = member
        headers = self.headers() + [("Action", "floor-change"),
                                    ("Old-ID", str(old.id) if old else "none")]
        if member is not None:
            headers += member.headers()
        headers.append(("New-ID", str(member.id) if member else "none"))
        self.fire(FLOOR, headers)

    def release_floor(self) -> None:
        """The holder lets go (`floor <holder>`): floor-change to none, then fill_floor."""
        self.set_floor(None)
        self.fill_floor()

    def fill_floor(self) -> None:
        """An empty floor goes at once to the newest member who can speak (FreeSWITCH's
        conference thread does so on its next frame; checked on 1.10.12)."""
        speakers = [m for m in sorted(self.members.values(), key=lambda m: -m.id) if m.can_speak]
        if self.floor is None and speakers and not self.ending:
            self.set_floor(speakers[0])

    def talk(self, member: Member, ms: int, source: str = "") -> None:
        """The member sends `ms` of audio above its energy level (`source`: what its caller
        plays, whose frames' energies decide the stop-talking statistics; talking.py)."""
        if not member.can_speak or member.talking:
            return
        member.talking, member.current_energy = True, TALK_ENERGY
        self.member_event(START_TALK, member, "start-talking")
        if self.floor is not member:
            self.set_floor(member)
        start = self.sim.clock.now_us()
        outcome = wait_media(member.channel, ms, member.gone)
        heard = ms if outcome == DONE else (self.sim.clock.now_us() - start) // 1000
        if outcome == DONE:
            wait_media(member.channel, TALK_HANGOVER_MS, member.gone)
        member.talking = False
        if member.id not in self.members:
            return
        # media.txt: 1500 ms of tone, 74 gate hits (the first frame started the talk)
        stats = stop_talking_stats(frame_energies(source, heard), member.energy)
        self.fire(STOP_TALK, member.headers() + stats + [("Action", "stop-talking")])
        member.current_energy = 0

    # -- files --------------------------------------------------------------------------------
    def play(self, source: str, member: Member | None = None, *, is_async: bool = False,
             ms: int | None = -1, mux: bool = True, params: list[tuple[str, str]] | None = None,
             shown: str | None = None, queued: bool = False, speech: bool = False,
             repeat: bool = False, leadin_ms: int = 0) -> Playback:
        """A file to the room (queued behind its other files unless async) or to `member`
        (`queued`: behind that member's other plays, as `play <file> <id>` does)."""
        if member is None and source.startswith("say:"):
            # conference_file_play's `say:`: the profile's TTS speaks to the room (an enter or
            # exit sound), queued like a file, without play-file events (1.10.12)
            text = source[len("say:"):]
            if text.startswith("#") and "#" in text[1:]:
                text = text[1:].split("#", 1)[1]
            speech, ms = True, speak_ms(text) if self.profile.tts else 0
        if member is None and source.startswith("tts://"):
            return self.unopened(source, is_async)
        if ms == -1:
            piece = self.sim.media.piece(source)
            ms = piece.ms
        playback = Playback(self, source, member=member, is_async=is_async, mux=mux,
                            params=params, shown=shown, speech=speech, repeat=repeat,
                            leadin_ms=leadin_ms)
        self.playbacks.append(playback)
        if member is not None:
            lock = member.file_lock if queued else None
        else:
            lock = None if is_async else self.file_lock
        gevent.spawn(playback.run, ms, lock)
        return playback

    def unopened(self, source: str, is_async: bool) -> Playback:
        """A room file FreeSWITCH 1.10.12 cannot open (`tts://`: mod_ssml's format, not
        loaded; it logs "Invalid file format [tts]"): play-file from conference_file_play,
        nothing heard, no play-file-done. The Playback returned is already over."""
        self.room_event(FILE_UNOPENED, "play-file",
                        [("File", source), ("Async", "true" if is_async else "false")])
        playback = Playback(self, source, member=None, is_async=is_async)
        playback.done.set()
        return playback

    @staticmethod
    def stop_files(playbacks: list[Playback]) -> None:
        """Stop these files now; their done events have fired when this returns."""
        for playback in playbacks:
            playback.stop.set()
        for playback in playbacks:
            playback.done.wait(STOP_FILE_WAIT_S)

    def file_done(self, playback: Playback, again: bool = False) -> None:
        """play-file(-member)-done; `again`: the hold music ended and plays again (it stays)."""
        if playback in self.playbacks and not again:
            self.playbacks.remove(playback)
        reported = playback.ms * FILE_TIME_FACTOR
        samples = reported * self.profile.rate // 1000
        timing = [("seconds", str(reported // 1000)), ("milliseconds", str(reported)),
                  ("samples", str(samples))]
        member = playback.member
        if member is not None:
            headers = self.headers() + timing + [("Action", "play-file-member-done")]
            headers += member.headers() + [("File", playback.shown), *playback.params]
        else:
            headers = self.headers() + timing + [("Action", "play-file-done"),
                                                 ("File", playback.source)]
            if playback.is_async:
                headers.append(("Async", "true"))
        self.fire(FILE_DONE, headers)
        if member is None and not playback.is_async:
            self.update_moh()
        if member is not None:
            member.channel.record("conference_heard", f"{playback.source} ({playback.ms} ms)",
                                  playback.ms)
        else:
            for other in self.members.values():
                if other.can_hear:
                    other.channel.record("conference_heard",
                                         f"{playback.source} ({playback.ms} ms)", playback.ms)

    def update_moh(self) -> None:
        """Hold music while one member is alone or the room waits for its moderator
        (CFLAG_WAIT_MOD: set by a wait-mod member's join before any moderator came, cleared
        for good by a moderator's; 1.10.12 plays no music to the wait-mod members a leaving
        moderator leaves behind), and no other file plays to the room (FreeSWITCH starts it
        only without a current file)."""
        nomoh = any("nomoh" in m.flags for m in self.members.values())
        other_file = any(p.member is None and not p.is_async for p in self.playbacks)
        wanted = (bool(self.moh_sound) and not self.destroyed and not self.ending
                  and not other_file
                  and ((len(self.members) == 1 and not nomoh)
                       or self.wait_mod))
        if wanted and self.moh is None:
            self.moh = self.play(self.moh_sound, is_async=True, ms=None, repeat=True)
        elif not wanted and self.moh is not None:
            self.moh.stop.set()
            self.moh = None

    # -- recording ----------------------------------------------------------------------------
    def start_recording(self, path: str) -> None:
        """Record to `path`: .wav, or .mp3 while `sim.conferences.mp3` (mod_shout loaded).
        A file that cannot be opened (another format, an unwritable place) fires
        start-recording with Error and an empty stop-recording, as FreeSWITCH 1.10.12 does."""
        formats = (".wav", ".mp3") if self.sim.conferences.mp3 else (".wav",)
        try:
            if Path(path).suffix.lower() not in formats:
                raise OSError(f"{path}: no file format for this extension")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).open("wb").close()
        except OSError:
            self.room_event(REC_FAILED, "start-recording",
                            [("Path", path), ("Error", "File could not be opened for recording")])
            self.room_event(REC_STOP, "stop-recording", [
                ("Path", path), ("Other-Recordings", _bool(bool(self.recordings))),
                ("Samples-Out", "0"), ("Samplerate", str(self.profile.rate)),
                ("Milliseconds-Elapsed", "0"),
            ])
            return
        recording = Recording(self, path)
        self.recordings.append(recording)
        self.room_event(REC_START, "start-recording", [("Path", path)])

    def stop_recording(self, recording: Recording) -> None:
        self.recordings.remove(recording)
        try:
            samples, ms = recording.write()
            size = Path(recording.path).stat().st_size
        except OSError:
            samples, ms, size = 0, 0, 0
        self.room_event(REC_STOP, "stop-recording", [
            ("Path", recording.path), ("Other-Recordings", _bool(bool(self.recordings))),
            ("Samples-Out", str(samples)), ("Samplerate", str(self.profile.rate)),
            ("Milliseconds-Elapsed", str(ms)), ("Record-File-Size", str(size)),
        ])


class Conferences:
    """The rooms of one embedded FreeSWITCH and the global member-id counter."""

    def __init__(self, sim: EmbeddedFreeSwitch) -> None:
        self.sim = sim
        self.rooms: dict[str, Room] = {}
        self.profiles = dict(PROFILES)
        #: mod_shout loaded: `recording start x.mp3` writes MP3 (silent frames, see silent_mp3)
        self.mp3 = True
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def forget(self, room: Room) -> None:
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]

    def member_of(self, uuid: str) -> Member | None:
        for room in self.rooms.values():
            for member in room.members.values():
                if member.channel.uuid == uuid:
                    return member
        return None

    def talk(self, uuid: str, ms: int, source: str = "") -> bool:
        """The member on channel `uuid` sends `ms` of audio (start-talking ... stop-talking)
        in the background, as if its caller played `source` (steady audio when empty); False
        when that channel is in no room."""
        member = self.member_of(uuid)
        if member is None:
            return False
        gevent.spawn(member.room.talk, member, ms, source)
        return True


def _int(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0


# the `conference` application and the playback hook register themselves (a sibling: size)
from plivoxml_fs.simulator import conference_app  # noqa: E402, F401
