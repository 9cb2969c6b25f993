"""Channels of the embedded FreeSWITCH: state, variables, history, and their event headers.

A `Channel` holds what FreeSWITCH keeps per session (caller profile, variables in insertion
order, call/answer state, timestamps) and builds the channel part of every event in the order
the traces show: Channel-State ... Answer-State, [Hangup-Cause], codecs, Caller-*, variable_*.
It fires its own events (answer, pre-answer, DTMF, hangup) on the bus and records what the
caller experienced in `history`. Running applications is apps.py's work; the socket the call
is handed to is outbound.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import gevent.event
import gevent.queue

from plivoxml_fs.simulator.audio import ChannelAudio
from plivoxml_fs.simulator.bus import Calling, SimEvent, local_stamp
from plivoxml_fs.simulator.causes import q850

if TYPE_CHECKING:
    from plivoxml_fs.simulator.server import EmbeddedFreeSwitch

log = logging.getLogger("plivoxml_fs.simulator")

STATE_NUMBERS = {"CS_EXECUTE": 4, "CS_HANGUP": 10, "CS_REPORTING": 11}

ANSWER = Calling("switch_channel.c", "switch_channel_perform_mark_answered", 3846)
PRE_ANSWER = Calling("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3560)
HANGUP = Calling("switch_channel.c", "switch_channel_perform_hangup", 3445)
STATE = Calling("switch_channel.c", "switch_channel_perform_set_running_state", 2408)
HANGUP_COMPLETE = Calling(
    "switch_core_state_machine.c", "switch_core_session_reporting_state", 943
)
DTMF = Calling("switch_channel.c", "switch_channel_dequeue_dtmf", 677)
CALLSTATE = Calling("switch_channel.c", "switch_channel_perform_set_callstate", 301)
#: switch_channel_callstate_t
CALL_STATE_NUMBERS = {"DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HANGUP": 7}

#: Samples per media millisecond at the channels' 8 kHz.
SAMPLES_PER_MS = 8
#: DTMF-Duration FreeSWITCH reports by default, in samples at 8 kHz (250 ms).
DTMF_DEFAULT_SAMPLES = 2000
#: Called as `hook(channel)` in CS_HANGUP, before CS_REPORTING (leg recordings close there).
TEARDOWN_HOOKS: list[Callable[[Channel], None]] = []


@attrs.frozen
class ChannelRecord:
    """One thing the caller experienced: kind (answered, played, spoke, dtmf, ...) and detail."""

    kind: str
    detail: str = ""
    ms: int | None = None  # media length, for kinds that last (played, spoke, slept, ...)

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


class Channel:
    """One session: a loopback leg created by originate."""

    def __init__(
        self,
        sim: EmbeddedFreeSwitch,
        *,
        uuid: str,
        name: str,
        direction: str,
        profile: list[tuple[str, str]],
        variables: dict[str, str],
        session_id: int,
    ) -> None:
        self.sim = sim
        self.uuid = uuid
        self.name = name
        self.direction = direction
        self.profile = profile  # caller profile fields after the prefix, times excluded
        self.variables = variables
        self.session_id = session_id
        self.state = "CS_EXECUTE"
        self.state_number = STATE_NUMBERS["CS_EXECUTE"]
        self.call_state = "RINGING"
        self.answer_state = "ringing"
        self.hangup_cause: str | None = None
        self.created_us = sim.clock.now_us()
        self.answered_us = 0
        self.progress_media_us = 0
        self.hangup_us = 0
        self.history: list[ChannelRecord] = []
        self.partner: Channel | None = None
        self.listener = None  # the outbound ESL session controlling this channel, if any
        self.commands: gevent.queue.Queue = gevent.queue.Queue()
        self.hungup = gevent.event.Event()  # set when the hangup starts
        self.destroyed = gevent.event.Event()  # set after CHANNEL_HANGUP_COMPLETE
        self.media_up = gevent.event.Event()  # set on answer or pre-answer (originate returns)
        self.breaker = gevent.event.Event()  # uuid_break: stop the media now playing
        self.dtmf_handlers: list[Callable[[Channel, str], None]] = []
        self.current_app: str | None = None
        self.current_arg: str | None = None
        self.audio = ChannelAudio()  # what it sends, the rooms it was in, its recordings

    # -- variables --------------------------------------------------------------------------
    def set_var(self, name: str, value: str | None) -> None:
        """Set (moving it last, as FreeSWITCH's event headers do) or unset a variable."""
        self.variables.pop(name, None)
        if value is not None:
            self.variables[name] = value

    def get_var(self, name: str) -> str | None:
        return self.variables.get(name)

    def record(self, kind: str, detail: str = "", ms: int | None = None) -> None:
        self.history.append(ChannelRecord(kind, detail, ms))

    @property
    def is_up(self) -> bool:
        return not self.hungup.is_set()

    # -- headers ----------------------------------------------------------------------------
    def profile_headers(self, prefix: str) -> list[tuple[str, str]]:
        times = [
            ("Profile-Created-Time", self.created_us),
            ("Channel-Created-Time", self.created_us),
            ("Channel-Answered-Time", self.answered_us),
            ("Channel-Progress-Time", 0),
            ("Channel-Progress-Media-Time", self.progress_media_us),
            ("Channel-Hangup-Time", self.hangup_us),
            ("Channel-Transfer-Time", 0),
            ("Channel-Resurrect-Time", 0),
            ("Channel-Bridged-Time", 0),
            ("Channel-Last-Hold", 0),
            ("Channel-Hold-Accum", 0),
        ]
        items = [(f"{prefix}-{k}", v) for k, v in self.profile]
        items.append((f"{prefix}-Channel-Name", self.name))
        items.append((f"{prefix}-Profile-Index", "1"))
        items += [(f"{prefix}-{k}", str(v)) for k, v in times]
        items += [
            (f"{prefix}-Screen-Bit", "true"),
            (f"{prefix}-Privacy-Hide-Name", "false"),
            (f"{prefix}-Privacy-Hide-Number", "false"),
        ]
        return items

    def channel_headers(self, *, variables: bool = True) -> list[tuple[str, str]]:
        """The channel part of an event (switch_channel_event_set_data)."""
        items = [
            ("Channel-State", self.state),
            ("Channel-Call-State", self.call_state),
            ("Channel-State-Number", str(self.state_number)),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true"),
            ("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid)),
            ("Answer-State", self.answer_state),
        ]
        if self.hangup_cause:
            items.append(("Hangup-Cause", self.hangup_cause))
        for side in ("Read", "Write"):
            items += [
                (f"Channel-{side}-Codec-Name", "L16"),
                (f"Channel-{side}-Codec-Rate", "8000"),
                (f"Channel-{side}-Codec-Bit-Rate", "128000"),
            ]
        items += self.profile_headers("Caller")
        if variables:
            items += [(f"variable_{k}", v) for k, v in self.variables.items()]
        return items

    def event(
        self,
        name: str,
        calling: Calling,
        extra: list[tuple[str, str]] | tuple = (),
        *,
        variables: bool = True,
        first: list[tuple[str, str]] | tuple = (),
    ) -> SimEvent:
        headers = list(first) + self.channel_headers(variables=variables) + list(extra)
        return self.sim.factory.make(name, calling, headers)

    def fire(self, name: str, calling: Calling, extra=(), **kwargs) -> None:
        self.sim.bus.fire(self.event(name, calling, extra, **kwargs))

    # -- state changes ----------------------------------------------------------------------
    def mark_answered(self) -> None:
        """Answer (once): the loopback partner answers first, as the traces show."""
        if self.answered_us or not self.is_up:
            return
        partner = self.partner
        if partner is not None and not partner.answered_us and partner.is_up:
            partner._answer()
        self._answer()

    def _answer(self) -> None:
        self.answered_us = self.sim.clock.now_us()
        self.answer_state = "answered"
        self.fire("CHANNEL_ANSWER", ANSWER)
        self.set_var("endpoint_disposition", "ANSWER")  # after the event, as the trace shows
        self.set_call_state("ACTIVE")
        self.record("answered")
        self.media_up.set()

    def mark_pre_answered(self) -> None:
        if self.answered_us or self.progress_media_us or not self.is_up:
            return
        self.progress_media_us = self.sim.clock.now_us()
        self.answer_state = "early"
        self.set_var("endpoint_disposition", "EARLY MEDIA")
        self.fire("CHANNEL_PROGRESS_MEDIA", PRE_ANSWER)
        self.set_call_state("EARLY")
        self.record("pre_answered")
        self.media_up.set()

    def set_call_state(self, state: str) -> None:
        """Change the call state and fire CHANNEL_CALLSTATE (no variables), as the traces."""
        old, self.call_state = self.call_state, state
        first = [("Original-Channel-Call-State", old),
                 ("Channel-Call-State-Number", str(CALL_STATE_NUMBERS[state]))]
        self.fire("CHANNEL_CALLSTATE", CALLSTATE, first=first, variables=False)

    def receive_dtmf(self, digit: str, samples: int = DTMF_DEFAULT_SAMPLES) -> None:
        """A digit arrives on this channel: a DTMF event (no variables), history, handlers."""
        if not self.is_up:
            return
        extra = [("DTMF-Digit", digit), ("DTMF-Duration", str(samples)), ("DTMF-Source", "UNKNOWN")]
        self.fire("DTMF", DTMF, extra, variables=False)
        self.record("dtmf", digit)
        for handler in list(self.dtmf_handlers):
            handler(self, digit)

    def hangup(self, cause: str) -> bool:
        """Start the hangup: CHANNEL_HANGUP now; the session greenlet finishes the teardown.

        The loopback partner hangs up with the same cause. Returns False when already down.
        """
        if self.hungup.is_set():
            return False
        self.hangup_cause = cause
        self.hangup_us = self.sim.clock.now_us()
        self.answer_state = "hangup"
        self.state_number = STATE_NUMBERS["CS_HANGUP"]
        self.fire("CHANNEL_HANGUP", HANGUP)
        self.hungup.set()
        self.commands.put(None)  # wake a parked session
        if self.listener is not None:
            self.listener.channel_hangup(self)
        if self.partner is not None:
            self.partner.hangup(cause)
        return True

    def run_session(self, body: Callable[[Channel], None]) -> None:
        """Run the session's work (its dialplan); a failure in it still ends the channel."""
        try:
            body(self)
        except Exception:
            log.exception("simulator: channel %s (%s) failed; hanging it up", self.uuid, self.name)
            if self.is_up:
                self.hangup("NORMAL_TEMPORARY_FAILURE")
            if not self.destroyed.is_set():
                self.finish()

    def finish(self) -> None:
        """The teardown after the session's applications ended (CS_HANGUP, CS_REPORTING)."""
        self.state = "CS_HANGUP"
        self.fire("CHANNEL_STATE", STATE, variables=False)
        for hook in TEARDOWN_HOOKS:
            hook(self)
        self.state = "CS_REPORTING"
        self.state_number = STATE_NUMBERS["CS_REPORTING"]
        self.set_call_state("HANGUP")
        self.fire("CHANNEL_STATE", STATE, variables=False)
        self._set_hangup_variables()
        first = [("Hangup-Cause", self.hangup_cause or "NORMAL_CLEARING")]
        self.fire("CHANNEL_HANGUP_COMPLETE", HANGUP_COMPLETE, first=first)
        self.record("hangup", self.hangup_cause or "NORMAL_CLEARING")
        self.destroyed.set()
        if self.listener is not None:
            self.listener.channel_destroyed(self)
        self.sim.channel_gone(self)

    def _set_hangup_variables(self) -> None:
        """The CDR variables FreeSWITCH sets before CHANNEL_HANGUP_COMPLETE, in its order."""
        cause = self.hangup_cause or "NORMAL_CLEARING"
        start, answered, early = self.created_us, self.answered_us, self.progress_media_us
        end = self.hangup_us or self.sim.clock.now_us()
        values = {
            "hangup_cause": cause,
            "hangup_cause_q850": str(q850(cause)),
            "digits_dialed": "none",
            "start_stamp": local_stamp(start),
            "profile_start_stamp": local_stamp(start),
        }
        if answered:
            values["answer_stamp"] = local_stamp(answered)
        if early:
            values["progress_media_stamp"] = local_stamp(early)
        values["end_stamp"] = local_stamp(end)
        for name, us in (("start", start), ("profile_start", start), ("answer", answered),
                         ("bridge", 0), ("last_hold", 0)):
            values[f"{name}_epoch"], values[f"{name}_uepoch"] = str(us // 1_000_000), str(us)
        values |= {"hold_accum_seconds": "0", "hold_accum_usec": "0", "hold_accum_ms": "0"}
        for name, us in (("resurrect", 0), ("progress", 0), ("progress_media", early), ("end", end)):
            values[f"{name}_epoch"], values[f"{name}_uepoch"] = str(us // 1_000_000), str(us)
        values["last_app"] = self.current_app or ""
        if self.current_arg:
            values["last_arg"] = self.current_arg
        values["caller_id"] = self._caller_id()
        spans = [
            ("duration", end - start), ("bill", end - answered if answered else 0),
            ("progress", 0), ("answer", answered - start if answered else 0), ("wait", 0),
            ("progress_media", early - start if early else 0), ("flow_bill", end - start),
        ]
        for unit, divisor in (("sec", 1_000_000), ("msec", 1000), ("usec", 1)):
            for name, us in spans:
                key = _DURATION_NAMES[unit] if name == "duration" else f"{name}{unit}"
                values[key] = str(us // divisor)
        values["is_loopback"] = "1"
        for name, value in values.items():
            self.set_var(name, value)

    def _caller_id(self) -> str:
        profile = dict(self.profile)
        number = profile.get("Caller-ID-Number", "")
        name = profile.get("Caller-ID-Name")
        return f'"{name}" <{number}>' if name else number


_DURATION_NAMES = {"sec": "duration", "msec": "mduration", "usec": "uduration"}
