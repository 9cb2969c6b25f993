"""An ai-agent participant (gevent): the loopback pair, its unicast and its stream.

`<MultiPartyCall role="ai-agent">` run by a call (the *host*) does not put the host into the
room: it starts an AI participant and waits while it is there (docs/ai-agent.md):

1. `originate {origination_uuid=<A>,plivoxml_ai_leg=<token>[,plivoxml_account_id=...]}
   <AI_ENDPOINT> &park`: the B leg reaches the daemon's socket like any call, and the driver,
   seeing `plivoxml_ai_leg`, runs this same `<MultiPartyCall>` on it (`claim(token)`): the B
   leg is the participant, with role ai-agent, muted/held/kicked/recorded like any other, and
   posts no hangup callback;
2. an `AiStream` to aiAgentStreamServiceUrl (connecting in the background; its callId the
   host's, or with no host the B leg's);
3. `unicast` on the A leg (local: FreeSWITCH's UDP port, remote: the stream's) and `park`.

The host goes on (its next verb) when the AI participant has left the room (kicked, the MPC
ended), the stream ended (the service failed or closed: the participant is hung up, the room
goes on) or the host hung up (the participant is hung up too).

The control API's add participant with role ai-agent (`add_by_api`) makes the same pair over
the inbound connection with no host: the room leg is the participant (its call uuid is the
stream's callId), and a greenlet takes the pair down once it left or its stream ended.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import attrs
import gevent
import gevent.event

from plivoxml_fs.effects import aiports
from plivoxml_fs.effects.aistream import AiStream, StreamSpec, status_callback
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.fs import commands

log = logging.getLogger("plivoxml_fs.aiagent")

#: Where the AI participant's pair is dialled: the dialplan must send it to the daemon's socket
#: (the test configuration sends every destination there).
AI_ENDPOINT = "loopback/plivoxml-ai/default"
#: The B leg's channel variable naming its participant.
LEG_VARIABLE = "plivoxml_ai_leg"
#: The control API account whose MPC the AI joins (verbs/base.ACCOUNT_VARIABLE).
ACCOUNT_VARIABLE = "plivoxml_account_id"


@attrs.define
class Leg:
    """An AI participant's room leg, waiting to be claimed by the driver."""

    document: Any  # documents.models.Document holding the one <MultiPartyCall role="ai-agent">
    dtmf: Callable[[str], None] = lambda digit: None  # a digit to the service
    hears: frozenset | None = None  # the roles whose digits it gets (None: all)
    done: gevent.event.Event = attrs.field(factory=gevent.event.Event)
    seen: gevent.event.Event = attrs.field(factory=gevent.event.Event)  # claimed by the driver
    claimed: bool = False
    uuid: str = ""  # the room leg's channel, once claimed

    def finished(self) -> None:
        self.done.set()


LEGS: dict[str, Leg] = {}


def claim(token: str | None, uuid: str = "") -> Leg | None:
    """The driver's hook: the leg a `plivoxml_ai_leg` names, once (`uuid`: its channel)."""
    leg = LEGS.get(token or "")
    if leg is None or leg.claimed:
        return None
    leg.claimed, leg.uuid = True, uuid
    leg.seen.set()
    return leg


def relay_digit(room: Any, dtmf: Any) -> None:
    """The room engine's `on_digit` (a digit a member pressed, from its own socket): in an
    MPC that has AI participants it goes to each of their services (those whose
    aiAgentHears takes the presser's role), as a `dtmf` message."""
    if not LEGS:
        return
    members = getattr(room, "members", {})
    presser = members.get(dtmf.unique_id)
    if presser is None:
        return
    for leg in list(LEGS.values()):
        if leg.uuid and leg.uuid != dtmf.unique_id and leg.uuid in members \
                and (leg.hears is None or presser.role in leg.hears):
            leg.dtmf(dtmf.digit)


def spec_of(mpc: Any, call_id: str, auth_token: str) -> StreamSpec:
    return StreamSpec(
        url=mpc.ai_agent_stream_service_url, content_type=mpc.ai_agent_stream_content_type,
        extra_headers=tuple(mpc.ai_agent_stream_extra_headers),
        status_callback_url=mpc.ai_agent_stream_status_callback_url,
        status_callback_method=mpc.ai_agent_stream_status_callback_method,
        call_id=call_id, auth_token=auth_token)


@attrs.define
class Participant:
    """A started AI participant: `a_leg` (unicast), its `stream`, its room `leg`."""

    a_leg: str
    token: str
    stream: AiStream
    leg: Leg
    api: Callable[..., str]
    media: aiports.Lease | None = None

    def wait(self, *also: gevent.event.Event) -> None:
        gevent.wait([self.leg.done, self.stream.ended, *also], count=1)

    def stop(self, reason: str) -> None:
        self.stream.stop(reason)
        with contextlib.suppress(PlivoXMLError):
            self.api(commands.uuid_kill(self.a_leg), check=False)
        LEGS.pop(self.token, None)
        if self.media is not None:
            self.media.release()


#: Wall seconds between two looks at whether the A leg parked.
PARK_POLL_S = 0.01


def wait_parked(api: Callable[[str], str], uuid: str, timeout_s: float) -> bool:
    """Wait until the A leg runs its own `park` (the originate's `&park`), before its unicast:
    the originate answers once the pair is up, which can be before the A leg starts its
    application, and a unicast sent then is lost: FreeSWITCH 1.10.12 runs the `park` sent with
    it at once, that park returns when the leg's own application begins and takes the unicast
    down as it returns (switch_ivr_park), so no audio ever flows (seen on a loaded real one:
    'Created unicast connection', then park at depth 1 before park at depth 0). False when it
    did not park within `timeout_s` or is gone."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = api(commands.uuid_getvar(uuid, "current_application")).strip()
        if now == "park":
            return True
        if now.startswith("-ERR") or time.monotonic() > deadline:
            return False
        gevent.sleep(PARK_POLL_S)


def start_participant(mpc: Any, document: Any, *, api: Callable[..., str],
                      bgapi: Callable[..., Any], sendmsg: Callable[[commands.Sendmsg], Any],
                      settings: Any, emit: Callable[[Any], None], call_id: str = "",
                      rooms: Any = None, variables: dict[str, str] | None = None
                      ) -> Participant | None:
    """Start an AI participant for `mpc` (role ai-agent); None (one ERROR, the stream's status
    callback `failed`) when there is no media port or FreeSWITCH would not make the pair.
    `api`/`bgapi`/`sendmsg` reach FreeSWITCH (a call's socket or the inbound connection);
    `variables` go on the pair (the account); `call_id` is the stream's callId ("": the room
    leg's own uuid, known once the pair is made: the control API's AI has no host)."""
    token, a_leg = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    try:
        media = aiports.lease(settings)
    except (aiports.PortsExhausted, OSError) as exc:
        log.error("AI participant for MPC %s not started: %s", mpc.name, exc)
        status_callback(spec_of(mpc, call_id, settings.auth_token), emit, str(uuidlib.uuid4()),
                        "failed", f"no media port: {exc}")
        return None
    from plivoxml_fs.rooms.mpc_model import Participant as Options

    leg = Leg(document, hears=Options.of(mpc).hears)
    LEGS[token] = leg
    try:
        job = bgapi(commands.originate(AI_ENDPOINT, {**(variables or {}), "origination_uuid": a_leg,
                                                     LEG_VARIABLE: token}))
        text = getattr(job, "body_text", "") or ""
        if text.startswith("-ERR"):
            raise PlivoXMLError(f"originate: {text.strip()}")
    except PlivoXMLError as exc:
        log.error("AI participant for MPC %s: %s; going on without it", mpc.name, exc)
        LEGS.pop(token, None)
        with contextlib.suppress(OSError):
            media.udp.close()
        media.release()
        status_callback(spec_of(mpc, call_id or a_leg, settings.auth_token), emit,
                        str(uuidlib.uuid4()), "failed", f"not started: {exc}")
        return None

    def send_dtmf(digits: str) -> None:
        try:
            api(commands.uuid_send_dtmf(a_leg, digits), check=False)
        except PlivoXMLError as exc:
            log.warning("AI participant %s: sendDTMF %s not sent: %s", a_leg, digits, exc)

    if not call_id:  # the room leg's uuid is the callId: it reached the driver (at once, as
        leg.seen.wait(settings.command_timeout_s)  # it answers after its claim) or never
    spec = spec_of(mpc, call_id or leg.uuid or a_leg, settings.auth_token)
    stream = AiStream(spec, fs_address=media.fs, emit=emit, send_dtmf=send_dtmf, udp=media.udp,
                      on_audio=lambda playing: _audio_event(rooms, leg, playing))
    leg.dtmf = stream.dtmf
    participant = Participant(a_leg, token, stream, leg, api, media)
    stream.start()
    try:
        if not wait_parked(lambda cmd: api(cmd, check=False), a_leg, settings.command_timeout_s):
            raise PlivoXMLError(f"its A leg {a_leg} did not park within "
                                f"{settings.command_timeout_s:g} s")
        sendmsg(commands.unicast(a_leg, local=media.fs, remote=stream.udp_address))
        sendmsg(commands.execute("park", event_uuid=str(uuidlib.uuid4()), uuid=a_leg))
    except PlivoXMLError as exc:
        log.error("AI participant for MPC %s: %s; going on without it", mpc.name, exc)
        participant.stop(f"not started: {exc}")
        return None
    return participant


def _audio_event(rooms: Any, leg: Leg, playing: bool) -> None:
    """The AI's audio started or stopped: the room's ParticipantAudioStart / Stop."""
    room = rooms.room_of(leg.uuid) if rooms is not None and leg.uuid else None
    if room is None or not hasattr(room, "coaching"):  # not (or no longer) in an MPC
        return
    from plivoxml_fs.rooms import mpc_ai

    rooms.decide(room, lambda now: mpc_ai.audio(room, leg.uuid, playing, now))


def run_host(mpc: Any, ctx: Any) -> bool:
    """The host call's `<MultiPartyCall role="ai-agent">`: True when the host hung up."""
    from plivoxml_fs.documents.models import Document

    conn = ctx.conn

    def sendmsg(message: commands.Sendmsg) -> Any:
        return conn.command(message.line, message.headers, message.body)

    account = conn.channel.variable(ACCOUNT_VARIABLE)  # the AI joins the host's account's MPC
    participant = start_participant(
        mpc, Document((mpc,), source=f"ai-agent of {conn.uuid}"), api=conn.api,
        bgapi=conn.bgapi, sendmsg=sendmsg, settings=ctx.settings, emit=ctx.outbox.emit,
        call_id=conn.uuid, rooms=getattr(ctx, "rooms", None),
        variables={ACCOUNT_VARIABLE: account} if account else None)
    if participant is None:
        return False
    try:
        participant.wait(conn.hangup)
    finally:
        why = ("the host hung up" if conn.hangup.is_set() else "the participant left"
               if participant.leg.done.is_set() else participant.stream.end_reason or "ended")
        participant.stop(why)
    return conn.hangup.is_set()


def add_by_api(mpc: Any, document: Any, *, inbound: Any, settings: Any,
               emit: Callable[[Any], None], rooms: Any, account: str) -> str | None:
    """The control API's add participant with role ai-agent (api/mpc_add.py): the pair made
    over the inbound connection, no host. Returns the room leg's call uuid once the pair is
    made (its stream connecting; `None` when it was not: the reason logged and in the stream's
    status callback); a greenlet then stays with the participant until it left the room
    (kicked, the MPC ended) or its stream ended, and takes the pair down."""
    participant = start_participant(
        mpc, document, api=inbound.api, bgapi=inbound.bgapi, sendmsg=inbound.sendmsg,
        settings=settings, emit=emit, rooms=rooms,
        variables={ACCOUNT_VARIABLE: account} if account else None)
    if participant is None:
        return None
    if not participant.leg.seen.is_set():  # answered elsewhere: it would never be in the MPC
        why = (f"its room leg never reached the daemon's socket (the dialplan must send "
               f"{AI_ENDPOINT} there)")
        log.error("AI participant for MPC %s: %s", mpc.name, why)
        participant.stop(why)
        return None
    gevent.spawn(_stay, participant)
    return participant.leg.uuid or participant.a_leg


def _stay(participant: Participant) -> None:
    """A hostless AI participant's life: until its room leg or its stream is done."""
    try:
        participant.wait()
    finally:
        participant.stop("the participant left" if participant.leg.done.is_set()
                         else participant.stream.end_reason or "ended")
