"""The `conference` API command of the embedded FreeSWITCH: sub-commands with the real replies.

Reply texts and the events each sub-command fires are FreeSWITCH 1.10.12's (recorded in
basic.txt, media.txt, record.txt and probed on a running instance): list, count, json_list,
get/set, mute/tmute/unmute, deaf/undeaf, hold/unhold [file], relate, kick, hup, dtmf, floor,
play (room or member), stop, get-uuid, say, recording start/stop/check/pause/resume,
lock/unlock, energy, volume_in/volume_out. Member selectors: an id, `all`, `last`, `non_moderator`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from plivoxml_fs.simulator.api import api_command, split_words
from plivoxml_fs.simulator.bus import Calling
from plivoxml_fs.simulator.conference import Member, Room
from plivoxml_fs.simulator.media import speak_ms

if TYPE_CHECKING:
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch


def _at(function: str, line: int) -> Calling:
    return Calling("conference_api.c", function, line)


RELATE_USAGE = (
    "relate <member_id>[,<member_id>] <other_member_id>[,<other_member_id>] "
    "[nospeak|nohear|clear]"
)
PLAY_USAGE = "play <file_path> [async|<member_id> [nomux]]"
RECORDING_USAGE = "recording [start|stop|check|pause|resume] [<filename>|all]"
GET_USAGE = "get <parameter-name>"
SET_USAGE = (
    "set <max_members|sound_prefix|caller_id_name|caller_id_number|endconference_grace_time> "
    "<value>"
)
NOT_SPECIFIED = "Conference command, not specified.\nTry 'help'\n"
#: Usage lines of the member commands (`conference <room> <cmd>` with no member).
MEMBER_USAGE = {
    "mute": "mute <[member_id|all]|last|non_moderator> [<quiet>]",
    "tmute": "tmute <[member_id|all]|last|non_moderator> [<quiet>]",
    "unmute": "unmute <[member_id|all]|last|non_moderator> [<quiet>]",
    "deaf": "deaf <[member_id|all]|last|non_moderator>",
    "undeaf": "undeaf <[member_id|all]|last|non_moderator>",
    "hold": "hold <[member_id|all]|last|non_moderator> [file]",
    "unhold": "unhold <[member_id|all]|last|non_moderator>",
    "kick": "kick <[member_id|all|last|non_moderator]> [<optional sound file>]",
    "hup": "hup <[member_id|all|last|non_moderator]>",
    "dtmf": "dtmf <[member_id|all|last|non_moderator]> <digits>",
    "energy": "energy <member_id|all|last|non_moderator> [<newval>]",
    "volume_in": "volume_in <member_id|all|last|non_moderator> [<newval>]",
    "volume_out": "volume_out <member_id|all|last|non_moderator> [<newval>]",
}

MemberFunc = Callable[[Room, Member, list[str]], str]
ROOM_COMMANDS: dict[str, Callable[[Room, list[str]], str]] = {}
MEMBER_COMMANDS: dict[str, MemberFunc] = {}


def room_command(name: str):
    def register(func):
        ROOM_COMMANDS[name] = func
        return func

    return register


def member_command(name: str):
    def register(func):
        MEMBER_COMMANDS[name] = func
        return func

    return register



def _file_params(source: str) -> tuple[str, list[tuple[str, str]]]:
    """A file name's `{k=v,...}` prefix: (the bare source, its params). FreeSWITCH copies the
    params into the file's play events (play_id correlates a member play with its done)."""
    if not source.startswith("{") or "}" not in source:
        return source, []
    inner, bare = source[1:].split("}", 1)
    params = [(k, v) for k, _, v in (kv.partition("=") for kv in inner.split(",")) if k]
    return bare, params


@api_command("conference")
def _conference(sim: EmbeddedFreeSwitch, arg: str, owner) -> str:
    words = split_words(arg)
    if not words:
        return "-ERR Conference command, not specified.\n"
    room = sim.conferences.rooms.get(words[0])
    if room is None and words[0] == "list":
        # FreeSWITCH's list of every room, whatever follows; while a room `list` lives, that
        # room's commands instead (1.10.12)
        rooms = sim.conferences.rooms.values()
        return "".join(_room_summary(r) for r in rooms) or "+OK No active conferences.\n"
    if room is None:
        return f"-ERR Conference {words[0]} not found\n"
    if len(words) == 1:
        return NOT_SPECIFIED
    name, rest = words[1], words[2:]
    if name in ROOM_COMMANDS:
        return ROOM_COMMANDS[name](room, rest)
    if name in MEMBER_COMMANDS:
        return _for_members(room, name, rest)
    return f"-ERR Conference command '{name}' not found.\n"


def _room_summary(room: Room) -> str:
    count = len(room.members)
    head = (f"+OK Conference {room.name} ({count} member{'' if count == 1 else 's'} rate: "
            f"{room.profile.rate} flags: running|answered|enforce_min|dynamic|exit_sound|"
            "enter_sound|json_status)\n")
    return head + _list(room, [])


def _for_members(room: Room, name: str, rest: list[str]) -> str:
    if not rest:
        return MEMBER_USAGE[name]
    selector, args = rest[0], rest[1:]
    newest_first = sorted(room.members.values(), key=lambda m: -m.id)
    if selector == "all":
        targets = newest_first
    elif selector == "last":
        targets = newest_first[:1]
    elif selector == "non_moderator":
        targets = [m for m in newest_first if not m.moderator]
    else:
        member = room.members.get(int(selector)) if selector.isdigit() else None
        if member is None:
            return f"-ERR Non-Existant ID {selector}\n"
        targets = [member]
    return "".join(MEMBER_COMMANDS[name](room, member, args) for member in targets)


# -- room commands ---------------------------------------------------------------------------
@room_command("list")
def _list(room: Room, rest: list[str]) -> str:
    if rest[:1] == ["count"]:
        return str(len(room.members))
    members = sorted(room.members.values(), key=lambda m: -m.id)
    return "".join(member.list_line() + "\n" for member in members)


@room_command("json_list")
def _json_list(room: Room, rest: list[str]) -> str:
    """The room and its members as cJSON prints them (basic.txt)."""
    return cjson([room_json(room)])


def room_json(room: Room) -> dict:
    now = room.sim.clock.now_us()
    flags = {
        "locked": room.locked, "destruct": False, "wait_mod": False, "audio_always": False,
        "running": True, "answered": True, "enforce_min": True, "bridge_to": False,
        "dynamic": True, "exit_sound": True, "enter_sound": True,
        "recording": bool(room.recordings), "video_bridge": False, "video_floor_only": False,
        "video_rfc4579": False,
    }
    members = sorted(room.members.values(), key=lambda m: -m.id)
    return {
        "conference_name": room.name, "member_count": len(room.members), "ghost_count": 0,
        "rate": room.profile.rate, "run_time": (now - room.created_us) // 1_000_000,
        "conference_uuid": room.uuid, "canvas_count": 0, "max_bw_in": 0, "force_bw_in": 0,
        "video_floor_packets": 0, **flags, "variables": {},
        "members": [_member_json(m, now) for m in members],
    }


def _member_json(member: Member, now_us: int) -> dict:
    profile = dict(member.channel.profile)
    flags = {
        "can_hear": member.can_hear, "can_see": True, "can_speak": member.can_speak,
        "hold": member.hold, "mute_detect": False, "talking": member.talking,
        "has_video": False, "video_bridge": False, "has_floor": member.room.floor is member,
        "is_moderator": member.moderator, "end_conference": "endconf" in member.flags,
        "mandatory_member_end_conference": False, "pass_digits": "dist-dtmf" in member.flags,
    }
    return {
        "type": "caller", "id": member.id, "flags": flags, "uuid": member.channel.uuid,
        "caller_id_name": profile.get("Caller-ID-Name", ""),
        "caller_id_number": profile.get("Caller-ID-Number", ""),
        "join_time": (now_us - member.joined_us) // 1_000_000, "last_talking": 0,
        "energy": member.energy, "volume_in": member.volume_in, "volume_out": member.volume_out,
        "output-volume": member.volume_out, "input-volume": member.volume_in,
    }


def cjson(value, depth: int = 0) -> str:
    """`value` formatted as cJSON_Print does: tab indents, `"key":\tvalue`, inline arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(cjson(item, depth + 1) for item in value) + "]"
    inner = "\t" * (depth + 1)
    items = [f'{inner}{json.dumps(key)}:\t{cjson(item, depth + 1)}' for key, item in value.items()]
    return "{\n" + "".join(item + (",\n" if i < len(items) - 1 else "\n")
                           for i, item in enumerate(items)) + "\t" * depth + "}"


@room_command("count")
def _count(room: Room, rest: list[str]) -> str:
    return str(len(room.members))


@room_command("get")
def _get(room: Room, rest: list[str]) -> str:
    values = {"uuid": room.uuid, "count": str(len(room.members)),
              "max_members": str(room.max_members), "profile_name": room.profile.name,
              "rate": str(room.profile.rate)}
    if not rest or rest[0] not in values:
        return GET_USAGE
    return values[rest[0]]


@room_command("set")
def _set(room: Room, rest: list[str]) -> str:
    if len(rest) < 2 or rest[0] != "max_members" or not rest[1].isdigit():
        return SET_USAGE
    old, room.max_members = room.max_members, int(rest[1])
    return str(old)


@room_command("lock")
def _lock(room: Room, rest: list[str]) -> str:
    room.locked = True
    room.room_event(_at("conference_api_sub_lock", 3474), "lock")
    return f"+OK {room.name} locked\n"


@room_command("unlock")
def _unlock(room: Room, rest: list[str]) -> str:
    room.locked = False
    room.room_event(_at("conference_api_sub_unlock", 3496), "unlock")
    return f"+OK {room.name} unlocked\n"


@room_command("play")
def _play(room: Room, rest: list[str]) -> str:
    """`play <file>` queues behind the room's other files (Async false in play-file),
    `play <file> async` plays at once over them, `play <file> <id>` to one member."""
    if not rest:
        return PLAY_USAGE
    source, target = rest[0], rest[1] if len(rest) > 1 else ""
    piece = room.sim.media.piece(source)
    if target not in ("", "async"):
        member = room.members.get(int(target)) if target.isdigit() else None
        if member is not None and source.startswith("say:"):
            return _say_to_member(room, member, source)
        bare, params = _file_params(source)
        pieces = room.sim.media.pieces(bare)
        if member is None:
            return f"-ERR Member: {target} not found.\n{PLAY_USAGE}"
        if not pieces or not all(p.found for p in pieces):
            return f"-ERR (play) File: {source} not found.\n"
        room.member_event(_at("conference_api_sub_play", 2846), member, "play-file-member",
                          [("File", source), *params])
        ms = None if any(p.ms is None for p in pieces) else sum(p.ms or 0 for p in pieces)
        room.play(bare, member, ms=ms, params=params, shown=source, queued=True)
        return f"+OK (play) Playing file {source} to member {target}\n"
    is_async = target == "async"
    if source.startswith("tts://"):  # 1.10.12: no tts:// format (Room.unopened)
        room.unopened(source, is_async)
        return f"-ERR (play) File: {source} not found.\n"
    room.room_event(_at("conference_api_sub_play", 2817), "play-file",
                    [("File", source), ("Async", "true" if is_async else "false")])
    if not piece.found:  # the event above fires even then (FreeSWITCH 1.10.12)
        return f"-ERR (play) File: {source} not found.\n"
    room.play(source, is_async=is_async, ms=piece.ms)
    return f"+OK (play) Playing file {source}\n"


def _say_to_member(room: Room, member: Member, source: str) -> str:
    """`play 'say:[#voice#]<text>' <id>` (conference_member_say, FreeSWITCH 1.10.12): the
    profile's TTS speaks to the member, queued behind its plays; a leading `#voice#` is cut
    (mod_flite ignores it: the profile's voice speaks); no play-file-member-done fires; with no
    tts-engine in the profile nothing is said and the reply is still +OK. `say:` is read only
    at the start: `{play_id=...}say:...` is "not found"."""
    text = source[len("say:"):]
    if text.startswith("#") and "#" in text[1:]:
        text = text[1:].split("#", 1)[1]
    if not text:
        return f"-ERR (play) File: {source} not found.\n"
    room.member_event(_at("conference_api_sub_play", 2846), member, "play-file-member",
                      [("File", source)])
    if room.profile.tts:
        ms = member.tts_left_ms + speak_ms(text)
        member.tts_left_ms = 0
        room.play(source, member, ms=ms, shown=source, queued=True, speech=True)
    return f"+OK (play) Playing file {source} to member {member.id}\n"


@room_command("stop")
def _stop(room: Room, rest: list[str]) -> str:
    """`stop [current|all|async|last] [<member_id>]`: stop files, each firing its done event."""
    which = rest[0] if rest else "current"
    if which not in ("current", "all", "async", "last"):
        return "stop <[current|all|async|last]> [<member_id>]"
    if len(rest) > 1:
        member = room.members.get(int(rest[1])) if rest[1].isdigit() else None
        if member is None:
            return f"-ERR Non-Existant ID {rest[1]}\n"
        chosen = [p for p in room.playbacks if p.member is member]
    else:
        mine = [p for p in room.playbacks if p.member is None]
        if which == "all":
            chosen = mine
        elif which == "async":
            chosen = [p for p in mine if p.is_async and p is not room.moh]
        else:  # current / last: the file the room is hearing, the hold music if none
            queued = [p for p in mine if not p.is_async]
            chosen = queued[:1] or [p for p in mine if p is room.moh]
        if not chosen:
            return "+OK Stopped 0 files.\n"
    if room.moh in chosen:
        room.moh = None
    room.stop_files(chosen)
    return f"+OK Stopped {len(chosen)} files.\n"


@room_command("get-uuid")
def _get_uuid(room: Room, rest: list[str]) -> str:
    member = room.members.get(int(rest[0])) if rest and rest[0].isdigit() else None
    if member is None:
        return f"-ERR Non-Existant ID {rest[0] if rest else ''}\n"
    return member.channel.uuid


@room_command("say")
def _say(room: Room, rest: list[str]) -> str:
    if not rest:
        return "-ERR (say) Error! No text.\n"
    text = " ".join(rest)
    room.room_event(_at("conference_api_sub_say", 2885), "speak-text", [("Text", text)])
    return "+OK (say) OK\n"


@room_command("saymember")
def _saymember(room: Room, rest: list[str]) -> str:
    """`saymember <id> [#voice#]<text>`: speech to one member (conference_member_say reads
    the `#voice#`); the event's Text is the text as given."""
    member = room.members.get(int(rest[0])) if rest and rest[0].isdigit() else None
    if len(rest) < 2:
        return "-ERR (saymember) No Text!\n"
    if member is None:
        return f"-ERR (saymember) Unknown Member {rest[0]}!\n"
    text = " ".join(rest[1:])
    room.member_event(_at("conference_api_sub_saymember", 2944), member, "speak-text-member",
                      [("Text", text)])
    voice, spoken = ("slt", text)
    if text.startswith("#") and "#" in text[1:]:
        voice, spoken = text[1:].split("#", 1)
    room.play(f"tts://flite|{voice}|{spoken}", member, ms=speak_ms(spoken))
    return "+OK (saymember) OK\n"


@room_command("relate")
def _relate(room: Room, rest: list[str]) -> str:
    """`relate <id>[,<id>] <id>[,<id>] nospeak|nohear|nospeak,nohear|clear` (the words are
    matched as substrings, as conference_api_sub_relate does); `relate [<id>]` lists."""
    if len(rest) < 2:
        return _relations(room, rest)
    if len(rest) < 3:
        return RELATE_USAGE
    action = rest[2]
    nospeak, nohear = "nospeak" in action, "nohear" in action
    if action.lower() != "clear" and not (nospeak or nohear):
        return RELATE_USAGE
    out = ""
    for first in (i for i in rest[0].split(",") if i):
        for other in (i for i in rest[1].split(",") if i):
            a, b = _member(room, first), _member(room, other)
            a_id, b_id = _id(first), _id(other)
            if action.lower() == "clear":
                if a is None:
                    out += f"-ERR relationship {a_id}->{b_id} not found.\n"
                    continue
                a.relations.pop(b_id, None)
                out += f"+OK relationship {a_id}->{b_id} cleared.\n"
            elif a is None or b is None:
                out += f"-ERR relationship {a_id}->{b_id} not found.\n"
            else:
                a.relations[b.id] = ",".join(w for w, on in (("nospeak", nospeak),
                                                             ("nohear", nohear)) if on)
                out += f"+OK {a_id}->{b_id} {action} set\n"
    room.audio_changed()
    return out


def _id(text: str) -> int:
    """The member id as atoi reads it (0 for what is no number)."""
    digits = ""
    for ch in text.strip():
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else 0


def _member(room: Room, text: str) -> Member | None:
    return room.members.get(_id(text))


def _relations(room: Room, rest: list[str]) -> str:
    """`relate` / `relate <id>[,<id>]`: each relationship, or `+OK No relationships`."""
    if not any(m.relations for m in room.members.values()):
        return "+OK No relationships\n"
    if not rest:
        return ""
    out = ""
    for wanted in (_id(i) for i in rest[0].split(",") if i):
        for member in room.members.values():
            if wanted and member.id != wanted:
                continue
            for other, what in member.relations.items():
                speak = "NOSPEAK " if "nospeak" in what else "SPEAK "
                hear = "NOHEAR " if "nohear" in what else "HEAR "
                out += f"{member.id} -> {other} {speak}{hear}NOSENDVIDEO \n"
    return out


@room_command("floor")
def _floor(room: Room, rest: list[str]) -> str:
    if not rest:
        return "floor <member_id|last>"
    member = room.members.get(int(rest[0])) if rest[0].isdigit() else None
    if member is None:
        return f"-ERR Non-Existant ID {rest[0]}\n"
    if room.floor is member:
        room.release_floor()
        return "+OK floor none\n"
    if room.floor is not None:
        return f"-ERR floor is held by {room.floor.id}\n"
    room.set_floor(member)
    return f"+OK floor {member.id}\n"


@room_command("recording")
def _recording(room: Room, rest: list[str]) -> str:
    action = rest[0] if rest else ""
    path = rest[1] if len(rest) > 1 else ""
    if action == "check":
        if not room.recordings:
            return "-ERR Conference is not being recorded.\n"
        return "".join(f"+OK Record file {r.path}\n" for r in reversed(room.recordings))
    if action not in ("start", "stop", "pause", "resume") or not path:
        return RECORDING_USAGE
    if action == "start":
        room.start_recording(path)
        return f"+OK Record file {path}\n"
    if action == "stop":
        return _stop_recording(room, path)
    return _pause_recording(room, action, path)


def _stop_recording(room: Room, path: str) -> str:
    chosen = list(reversed(room.recordings)) if path == "all" else [
        r for r in room.recordings if r.path == path]
    out = "" if chosen or path == "all" else f"-ERR non-existant recording '{path}'\n"
    for recording in chosen:
        room.stop_recording(recording)
        out += f"Stopped recording file {recording.path}\n"
    # FreeSWITCH 1.10.12 always counts 0 here
    return out + "+OK Stopped recording 0 files\n"


def _pause_recording(room: Room, action: str, path: str) -> str:
    word = "Pause" if action == "pause" else "Resume"
    chosen = [r for r in room.recordings if path in ("all", r.path)]
    out = f"+OK {word} recording file {path}\n"
    if not chosen:
        return out + f"-ERR non-existant recording '{path}'\n"
    for recording in chosen:
        recording.pause() if action == "pause" else recording.resume()
    room.room_event(_at("conference_api_sub_pauserec", 3860), f"{action}-recording",
                    [("Path", path), ("Other-Recordings", "true")])
    return out



# the member commands register themselves in MEMBER_COMMANDS (a sibling module: file size)
from plivoxml_fs.simulator import conference_api_members  # noqa: E402, F401
