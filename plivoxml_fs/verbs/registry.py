"""Which executor runs which verb (by model class), and which verbs answer the call first."""

from __future__ import annotations

from typing import Any

from plivoxml_fs.documents.models import (
    Conference,
    Hangup,
    MultiPartyCall,
    Play,
    PreAnswer,
    Redirect,
    Speak,
    Wait,
)
from plivoxml_fs.verbs import (
    conference,
    hangup,
    multipartycall,
    play,
    preanswer,
    redirect,
    speak,
    wait,
)
from plivoxml_fs.verbs.base import Executor

EXECUTORS: dict[type, Executor] = {
    Play: play.run,
    Speak: speak.run,
    Wait: wait.run,
    Hangup: hangup.run,
    Redirect: redirect.run,
    PreAnswer: preanswer.run,
    Conference: conference.run,
    MultiPartyCall: multipartycall.run,
}

#: Verbs the documents accept whose executors come in a later issue. A document that reaches
#: one is stopped with a clear error and the call hung up: going on without what the document
#: asked for would give the caller something else than what the document says. (None now.)
NOT_SUPPORTED_YET: frozenset[type] = frozenset()

#: Verbs before which an unanswered call is answered: the media verbs. PreAnswer plays early
#: media, Hangup may reject (busy/rejected) and Wait delays the answer ("If <Wait> is the first
#: element, Plivo will wait the specified number of seconds before picking up the call");
#: Redirect leaves it to the next document.
ANSWER_FIRST: frozenset[type] = frozenset({Play, Speak, Conference, MultiPartyCall})


def verb_name(verb: Any) -> str:
    """The element name of a verb's model (`Play`, `Conference`, ...)."""
    return type(verb).__name__


def needs_answer(verb: Any) -> bool:
    """Whether the call must be answered before `verb` runs (a silence-detecting Wait listens)."""
    kind = type(verb)
    return kind in ANSWER_FIRST or (kind is Wait and bool(verb.silence))


def executor_for(verb: Any) -> Executor | None:
    """The executor of `verb`, or None when this daemon cannot run it."""
    return EXECUTORS.get(type(verb))


def not_supported_yet(verb: Any) -> bool:
    return type(verb) in NOT_SUPPORTED_YET
