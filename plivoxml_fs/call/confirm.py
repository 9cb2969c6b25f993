"""The confirm step of a participant the control API dialled with `confirm_key` (api/mpc_add.py).

The dialled leg reaches this daemon's socket answered; before its `<MultiPartyCall>` document
runs (`CallDriver.inline`), the driver calls `challenge(call, confirm)`:

1. fetch `confirm_key_sound_url` with its method and the call's parameters; Plivo's rule: the
   document holds Play, Speak and Wait only. A document that cannot be fetched, is invalid or
   holds anything else is refused (one ERROR line naming the URL and what is wrong): the
   challenge cannot be made, so the leg fails it;
2. with `playback_terminators=any` and `sleep_eat_digits=true` set on the channel, play the
   prompt's applications one after another (the same playback/speak/sleep arguments as those
   verbs: fs/arguments.py), watching the call's own events: the first digit pressed stops
   the prompt (FreeSWITCH's terminator), and is the answer;
3. the right key: the channel variables are unset again and the call goes on to its document
   (None is returned), once `Race.claim` says it is the first leg of its request to confirm;
   a leg that confirms after another has won is hung up with LOSE_RACE (9000 "Lost Race");
4. a wrong key, or no key within `confirm_key_timeout_s` of the step's start (counted from the
   answer, as Plivo's `confirmTimeout`; the prompt counts), hangs the leg up: Plivo's 9110
   "Confirm Key Challenge Failed", source Plivo. The call never joins.

`Race` is shared by the legs of one request (one per `to` number) and the API: the first leg
to confirm wins (`on_won(uuid)`: the API then hangs the others up with LOSE_RACE), and once
every leg is out without a winner `on_failed()` runs. Nothing here imports gevent: waits go
through the connection's subscription.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from plivoxml_fs.call import causes
from plivoxml_fs.call import params as call_params
from plivoxml_fs.documents import models
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.errors import ConnectionLost, EventOverflow, FetchError, PlivoXMLError
from plivoxml_fs.fs import arguments
from plivoxml_fs.fs.events import Dtmf, ExecuteComplete, view
from plivoxml_fs.verbs.base import Gone, HangupCall, Outcome, hung_up, run_app

#: Plivo's cause for a leg that did not enter the key (reference/plivo-hangup-causes.md).
CHALLENGE_FAILED = causes.CONFIRM_KEY_FAILED
#: The FreeSWITCH cause such a leg is hung up with (the row above names it to the app).
FAILED_CAUSE = "NORMAL_CLEARING"
#: The FreeSWITCH cause of a leg that confirmed after another leg had won (9000 Lost Race).
LOST_CAUSE = "LOSE_RACE"
#: The elements a confirm sound document may hold (Plivo: Play, Speak and Wait only).
PROMPT_VERBS = (models.Play, models.Speak, models.Wait)
#: How often the step looks at the clock while nothing happens, in seconds.
SLICE_S = 0.2
MS_PER_S = 1000


@attrs.define
class Race:
    """The legs of one add-participant request with confirm_key: the first to confirm wins."""

    uuids: tuple[str, ...]
    on_won: Callable[[str], None]
    on_failed: Callable[[], None]
    winner: str | None = None
    out: set[str] = attrs.field(factory=set)

    def claim(self, uuid: str) -> bool:
        """True when `uuid` is the first leg to confirm (it joins); False when another won or
        this leg is out already."""
        if self.winner is not None or uuid in self.out:
            return self.winner == uuid
        self.winner = uuid
        self.on_won(uuid)
        return True

    def lose(self, uuid: str) -> None:
        """Leg `uuid` cannot win any more (not answered, wrong key, no key, hung up)."""
        if uuid in self.out or uuid == self.winner:
            return
        self.out.add(uuid)
        if self.winner is None and self.out >= set(self.uuids):
            self.on_failed()


@attrs.frozen
class Confirm:
    """What a dialled leg must do before it joins: press `key` after hearing the document at
    `sound_url` (fetched with `sound_method`), within `timeout_s` of the step's start; with no
    key, only be the first leg of its request here (a race of delayed or unequal legs).
    `send_digits` go to the called party first, once it answered (Plivo's send_digits)."""

    key: str
    sound_url: str
    sound_method: str
    timeout_s: float
    race: Race
    send_digits: str = ""


def challenge(call: Any, confirm: Confirm) -> Outcome | None:
    """Run the confirm step on `call` (the driver's _Call); None: confirmed, go on."""
    try:
        outcome = _challenge(call, confirm)
    except ConnectionLost as exc:
        outcome = Gone(str(exc))
    if outcome is not None:
        confirm.race.lose(call.uuid)
    return outcome


def _challenge(call: Any, confirm: Confirm) -> Outcome | None:
    if call.uuid in confirm.race.out:  # given up on before it arrived (api/mpc_dial.py)
        return _claim(call, confirm)
    if (gone := call.answer()) is not None:  # a leg that came with early media only
        return gone
    deadline = call.clock() + confirm.timeout_s
    if confirm.send_digits:
        done = run_app(call, "send_dtmf", arguments.send_dtmf(confirm.send_digits))
        if isinstance(done, Gone):
            return done
    if not confirm.key:
        return _claim(call, confirm)
    prompt = _prompt(call, confirm)
    if prompt is None:
        return _failed()
    conn = call.conn
    with conn.subscribe() as sub:
        for name, value in (("playback_terminators", "any"), ("sleep_eat_digits", "true")):
            conn.execute_async("set", arguments.digit_variable(name, value))
        digit, running = _listen(call, sub, prompt, deadline)
        if digit is None:
            if hung_up(call):
                return Gone("the called party hung up before pressing a key")
            call.log.info("call %s: no confirm key within %s s: hanging up (9110)", call.uuid,
                          confirm.timeout_s)
            return _failed()
        if digit != confirm.key:
            call.log.info("call %s: confirm key %r pressed, %r expected: hanging up (9110)",
                          call.uuid, digit, confirm.key)
            return _failed()
        if running is not None:  # the terminator stops it; the document must not queue behind
            _until_complete(call, sub, running)
        for name in ("playback_terminators", "sleep_eat_digits"):
            conn.execute_async("set", arguments.digit_variable(name, ""))
    return _claim(call, confirm)


def _claim(call: Any, confirm: Confirm) -> Outcome | None:
    if not confirm.race.claim(call.uuid):
        call.log.info("call %s: another leg of its request was first: lost the race",
                      call.uuid)
        return HangupCall(LOST_CAUSE, call_params.SOURCE_PLIVO, causes.FREESWITCH[LOST_CAUSE])
    return None


def _failed() -> HangupCall:
    return HangupCall(FAILED_CAUSE, call_params.SOURCE_PLIVO, CHALLENGE_FAILED)


def _prompt(call: Any, confirm: Confirm) -> list[Any] | None:
    """The confirm sound document's verbs, or None (logged) when it cannot be used."""
    url = confirm.sound_url
    try:
        body, final_url = call.fetcher.fetch(url, confirm.sound_method, call.params)
        document = (call.parse or _parser())(body, source=shown_url(final_url),
                                             max_bytes=call.settings.max_document_bytes)
    except FetchError as exc:
        return _refused(call, url, f"cannot fetch it: {exc}")
    except (PlivoXMLError, ValueError) as exc:
        problems = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return _refused(call, url, f"invalid document: {problems}")
    others = [v for v in document.verbs if not isinstance(v, PROMPT_VERBS)]
    if others:
        shown = ", ".join(f"<{type(v).__name__}> at {getattr(v, 'where', '?')}" for v in others)
        return _refused(call, url, f"it may hold Play, Speak and Wait only (got {shown})")
    return list(document.verbs)


def _parser() -> Any:
    from plivoxml_fs.documents import parse_document

    return parse_document


def _refused(call: Any, url: str, why: str) -> None:
    call.log.error("call %s: confirm_key_sound_url %s refused: %s; the confirm key cannot be "
                   "asked for: hanging up (9110)", call.uuid, shown_url(url), why)
    return None


def _apps(prompt: list[Any]) -> Iterator[tuple[str, str]]:
    """The prompt as (application, argument) pairs, as the Play/Speak/Wait verbs run them
    (loop 0 repeats until a key or the deadline); a Wait is a plain `sleep` here."""
    for verb in prompt:
        if isinstance(verb, models.Play):
            app, arg = "playback", arguments.http_audio(verb.url)
        elif isinstance(verb, models.Speak):
            app, arg = "speak", arguments.speak(verb.text, verb.voice)
        else:
            app, arg = "sleep", arguments.sleep_arg(verb.length * MS_PER_S)
        count = getattr(verb, "loop", 1)
        done = 0
        while count == 0 or done < count:
            yield app, arg
            done += 1


def _listen(call: Any, sub: Any, prompt: list[Any],
            deadline: float) -> tuple[str | None, str | None]:
    """(the first digit pressed or None, the Application-UUID of the prompt app still
    running then or None): the prompt plays until a digit, the deadline or the hangup."""
    apps = _apps(prompt)
    running = _next(call, apps)
    while not hung_up(call):
        left = deadline - call.clock()
        if left <= 0:
            return None, running
        try:
            event = sub.get(min(SLICE_S, left))
        except EventOverflow:
            return None, running
        typed = _typed(event)
        if isinstance(typed, Dtmf) and typed.unique_id == call.uuid:
            return typed.digit, running
        if isinstance(typed, ExecuteComplete) and typed.app_uuid == running:
            running = _next(call, apps)
    return None, None


def _next(call: Any, apps: Iterator[tuple[str, str]]) -> str | None:
    """Start the prompt's next application; its Application-UUID (None: the prompt is over)."""
    step = next(apps, None)
    if step is None:
        return None
    return call.conn.execute_async(*step).app_uuid


def _until_complete(call: Any, sub: Any, app_uuid: str) -> None:
    """Wait (bounded by command_timeout_s) for the stopped prompt app to complete."""
    deadline = call.clock() + call.settings.command_timeout_s
    while not hung_up(call) and call.clock() < deadline:
        try:
            typed = _typed(sub.get(SLICE_S))
        except EventOverflow:
            return
        if isinstance(typed, ExecuteComplete) and typed.app_uuid == app_uuid:
            return


def _typed(event: Any) -> Any:
    if event is None:
        return None
    try:
        return view(event)
    except PlivoXMLError:
        return None
