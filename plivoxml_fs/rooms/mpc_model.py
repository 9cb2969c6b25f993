"""`<MultiPartyCall>` values: states, termination causes, exit causes, the MPC's settings and
a participant's options (docs/multipartycall.md).

`MpcSettings` are the MPC-level attributes: the first participant's document fixes them
(a later participant with others gets one INFO line naming them). The music sources are
resolved by the verb before it claims its seat (I/O stays out of the room) and do not take
part in that comparison (the URLs and methods do). `Participant` is what one participant's
document asks for itself. Both are plain frozen values; rooms/mpc.py decides with them.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from plivoxml_fs.rooms.model import ExitReason, Role, differences

#: The event groups of statusCallbackEvents and the events each holds (the spec's table).
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "mpc-state-changes": ("MPCInitialized", "MPCStart", "MPCEnd"),
    "participant-state-changes": (
        "ParticipantJoin", "ParticipantExit", "ParticipantMute", "ParticipantUnmute",
        "ParticipantHold", "ParticipantUnhold", "ParticipantCoachModeStart",
        "ParticipantCoachModeStop",
    ),
    "participant-speak-events": ("ParticipantSpeakStart", "ParticipantSpeakStop"),
    "participant-digit-input-events": ("ParticipantDigitInput",),
    "add-participant-api-events": (
        "AddParticipantByAPIActionInitiated", "AddParticipantByAPIActionCompleted",
    ),
    "participant-audio-events": ("ParticipantAudioStart", "ParticipantAudioStop"),
}
#: Event name -> its group.
GROUP_OF: dict[str, str] = {e: g for g, events in EVENT_GROUPS.items() for e in events}


class MpcState(enum.Enum):
    """The MPC's status as Plivo names it."""

    INITIALIZED = "Initialized"
    ACTIVE = "Active"
    ENDED = "Ended"


class Termination(enum.Enum):
    """Why an MPC ended: (MPCTerminationCauseCode, MPCTerminationCause)."""

    NO_ACTIVE_PARTICIPANTS = (1000, "No Active Participants")
    STAY_ALONE_NOT_PERMITTED = (1010, "Stay Alone Not Permitted")
    MAX_DURATION_REACHED = (2000, "Max Duration Reached")
    HANGUP_API_TRIGGERED = (3000, "Hangup API Triggered")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def cause(self) -> str:
        return self.value[1]


#: ParticipantExitCause, as Plivo names them; the last two are ours (Plivo documents no
#: cause for a join beyond maxParticipants or for a waitTime that ran out).
EXIT_CAUSES: dict[ExitReason, str] = {
    ExitReason.HANGUP: "Participant Call Hangup",
    ExitReason.KICKED: "Kicked Out of Multiparty Call",
    ExitReason.ENDED: "Multiparty Call Ended",
    ExitReason.ROOM_FULL: "Max Participants Reached",
    ExitReason.TIME_LIMIT: "Wait Time Exceeded",
    ExitReason.HANGUP_ON_STAR: "Participant Call Hangup",
    ExitReason.TRANSFERRED: "Participant Call Transferred",
}

@attrs.frozen
class Speech:
    """One Speak of wait/hold music: spoken to the member by the profile's TTS (`say:`)."""

    text: str
    voice: str  # the flite voice (slt, kal)


#: Wait or hold music: FreeSWITCH file sources and Speech, played in order and looped. A
#: plain string is one file source.
Music = tuple["str | Speech", ...]


def music_parts(music: str | Music | None) -> Music:
    """The parts of `music` (none for silence)."""
    if not music:
        return ()
    return (music,) if isinstance(music, str) else tuple(music)


#: Roles as the document writes them (any case) -> ours.
ROLES = {"customer": Role.CUSTOMER, "agent": Role.AGENT, "supervisor": Role.SUPERVISOR,
         "ai-agent": Role.AI_AGENT}
#: Roles whose coachMode acts: heard by Agents only (ai-agent: ours, docs/ai-agent.md).
COACHES = frozenset({Role.SUPERVISOR, Role.AI_AGENT})


def role_of(text: str) -> Role:
    """The Role of a role attribute (any case); ValueError for any other."""
    try:
        return ROLES[text.lower()]
    except KeyError:
        raise ValueError(f"role {text!r} is not one of Agent, Customer, Supervisor, "
                         "ai-agent") from None


def events_of(groups: Any) -> frozenset[str]:
    """statusCallbackEvents groups (any case, duplicates ignored) -> the event names."""
    names: set[str] = set()
    for group in groups:
        names.update(EVENT_GROUPS[str(group).strip().lower()])
    return frozenset(names)


@attrs.frozen
class MpcSettings:
    """The MPC-level attributes (the first participant's). Sources are FreeSWITCH file
    sources of the resolved music (None: silence); recording attributes are kept here for the
    recording component (rooms/mpc.py `MpcRecorder`)."""

    max_duration_s: int = 14_400
    max_participants: int = 10
    wait_for_agent: bool = False
    status_callback_url: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = events_of(("mpc-state-changes", "participant-state-changes"))
    wait_music_url: str | None = None
    wait_music_method: str = "GET"
    agent_hold_music_url: str | None = None
    agent_hold_music_method: str = "GET"
    customer_hold_music_url: str | None = None
    customer_hold_music_method: str = "GET"
    # recording (m2's component reads these)
    record: bool = False
    record_file_format: str = "mp3"
    record_min_member_count: int = 1
    record_coach_voice: bool | None = None
    start_recording_audio: str | None = None
    start_recording_audio_method: str = "GET"
    stop_recording_audio: str | None = None
    stop_recording_audio_method: str = "GET"
    recording_callback_url: str | None = None
    recording_callback_method: str = "POST"
    # resolved sources: not compared (the URLs above are)
    wait_music: str | Music | None = attrs.field(default=None, eq=False)
    agent_hold_music: str | Music | None = attrs.field(default=None, eq=False)
    customer_hold_music: str | Music | None = attrs.field(default=None, eq=False)
    start_recording_sound: str | Music | None = attrs.field(default=None, eq=False)
    stop_recording_sound: str | Music | None = attrs.field(default=None, eq=False)

    @classmethod
    def of(cls, mpc: Any, **sources: Any) -> MpcSettings:
        """The settings a `<MultiPartyCall>` model asks for, with the resolved `sources`."""
        return cls(
            max_duration_s=mpc.max_duration, max_participants=mpc.max_participants,
            wait_for_agent=mpc.wait_for_agent, status_callback_url=mpc.status_callback_url,
            status_callback_method=mpc.status_callback_method,
            status_events=events_of(mpc.status_callback_events),
            wait_music_url=mpc.wait_music_url, wait_music_method=mpc.wait_music_method,
            agent_hold_music_url=mpc.agent_hold_music_url,
            agent_hold_music_method=mpc.agent_hold_music_method,
            customer_hold_music_url=mpc.customer_hold_music_url,
            customer_hold_music_method=mpc.customer_hold_music_method,
            record=mpc.record, record_file_format=mpc.record_file_format.lower(),
            record_min_member_count=mpc.record_min_member_count,
            record_coach_voice=mpc.record_coach_voice,
            start_recording_audio=mpc.start_recording_audio,
            start_recording_audio_method=mpc.start_recording_audio_method,
            stop_recording_audio=mpc.stop_recording_audio,
            stop_recording_audio_method=mpc.stop_recording_audio_method,
            recording_callback_url=mpc.recording_callback_url,
            recording_callback_method=mpc.recording_callback_method,
            **sources,
        )

    def differences(self, other: MpcSettings) -> str:
        """`name: first <mine>, this <other's>` for each compared setting that differs."""
        return differences(self, other)

    def hold_music(self, role: Role) -> str | Music | None:
        """What a held participant of `role` hears (None: silence, as Supervisors do)."""
        if role == Role.AGENT:
            return self.agent_hold_music
        if role == Role.CUSTOMER:
            return self.customer_hold_music
        return None


@attrs.frozen
class Participant:
    """One participant's own attributes (its seat carries role, mute and hold)."""

    coach_mode: bool = True
    stay_alone: bool = False
    start_mpc_on_enter: bool = True
    end_mpc_on_exit: bool = False
    relay_dtmf: bool = False
    wait_time_s: int | None = None
    record_participant_track: bool = False
    transcript: bool = False
    transcription_url: str | None = None
    #: ai-agent only (ours): the roles it hears; None: the whole room
    hears: frozenset[Role] | None = None

    @classmethod
    def of(cls, mpc: Any) -> Participant:
        return cls(
            coach_mode=mpc.coach_mode, stay_alone=mpc.stay_alone,
            start_mpc_on_enter=mpc.start_mpc_on_enter, end_mpc_on_exit=mpc.end_mpc_on_exit,
            relay_dtmf=mpc.relay_dtmf_inputs, wait_time_s=mpc.wait_time,
            record_participant_track=mpc.record_participant_track, transcript=mpc.transcript,
            transcription_url=mpc.transcription_url, hears=_hears(mpc),
        )


def _hears(mpc: Any) -> frozenset[Role] | None:
    given = tuple(getattr(mpc, "ai_agent_hears", ("all",)))
    if "all" in given or str(getattr(mpc, "role", "")).lower() != "ai-agent":
        return None
    return frozenset(ROLES[g.lower()] for g in given)
