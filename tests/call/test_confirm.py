"""The race of an add participant's legs (call/confirm.py `Race`) and the strings the confirm
step sends (fs/arguments.py), byte for byte."""

from __future__ import annotations

import pytest

from plivoxml_fs.call import causes
from plivoxml_fs.call.confirm import Race
from plivoxml_fs.errors import UnsafeValue
from plivoxml_fs.fs import arguments


def _race(*uuids: str):
    seen: list = []
    race = Race(uuids, lambda won: seen.append(("won", won)), lambda: seen.append("failed"))
    return race, seen


def test_the_first_leg_to_claim_wins_and_the_later_one_loses():
    """The first to confirm wins (on_won once); a later claim answers False."""
    race, seen = _race("a", "b")
    assert race.claim("b") is True
    assert race.claim("a") is False
    race.lose("a")
    assert seen == [("won", "b")]


def test_failed_once_every_leg_is_out_without_a_winner():
    """on_failed runs once, when the last leg is out and none won."""
    race, seen = _race("a", "b")
    race.lose("a")
    assert seen == []
    race.lose("b")
    race.lose("b")
    assert seen == ["failed"]


def test_the_confirm_key_failure_is_plivos_9110():
    """A leg that did not press the key ends as Plivo's 9110, source Plivo."""
    cause = causes.resolve(causes.CONFIRM_KEY_FAILED, outbound=True)
    assert (cause.code, cause.name, cause.source) == (9110, "Confirm Key Challenge Failed",
                                                      "Plivo")


def test_digit_variables_byte_for_byte():
    """The confirm step sets and unsets exactly these channel variables."""
    assert arguments.digit_variable("playback_terminators", "any") == "playback_terminators=any"
    assert arguments.digit_variable("sleep_eat_digits", "true") == "sleep_eat_digits=true"
    assert arguments.digit_variable("playback_terminators", "") == "playback_terminators="
    with pytest.raises(UnsafeValue, match="digit variable"):
        arguments.digit_variable("hangup_after_bridge", "true")


def test_send_dtmf_argument():
    """send_digits as the send_dtmf argument: digits and w/W pauses, nothing else."""
    assert arguments.send_dtmf("1w2W#*") == "1w2W#*"
    with pytest.raises(UnsafeValue, match="send_dtmf digits"):
        arguments.send_dtmf("1 2")
    with pytest.raises(UnsafeValue, match="at most 99"):
        arguments.send_dtmf("1" * 100)


def test_a_leg_out_of_the_race_cannot_win_later():
    """A leg given up on (never reached the socket in time) cannot claim afterwards."""
    race, seen = _race("a", "b")
    race.lose("a")
    assert race.claim("a") is False
    assert race.claim("b") is True and seen == [("won", "b")]
