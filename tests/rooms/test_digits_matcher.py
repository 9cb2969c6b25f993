"""DigitsMatcher: digitsMatch patterns against the digits a member presses."""

from __future__ import annotations

from plivoxml_fs.rooms.model import DigitsMatcher


def test_a_pattern_at_the_end_of_what_was_typed_matches_once() -> None:
    """`12` inside `3124` matches at the `2`, then typing starts afresh."""
    m = DigitsMatcher(("12", "#9"), timeout_s=1.5)
    assert [m.press(d, 0.1 * i) for i, d in enumerate("3124")] == [None, None, "12", None]
    assert m.typed == "4"


def test_a_pause_longer_than_the_timeout_starts_a_new_sequence() -> None:
    """`1`, a pause past the timeout, `2`: no match."""
    m = DigitsMatcher(("12",), timeout_s=1.5)
    assert m.press("1", 0.0) is None
    assert m.press("2", 2.0) is None
    assert m.press("1", 2.5) is None
    assert m.press("2", 3.0) == "12"


def test_the_first_listed_pattern_wins_when_two_end_together() -> None:
    """Patterns `2` and `12` both end at `12`: the first one listed is reported."""
    m = DigitsMatcher(("2", "12"), timeout_s=1.5)
    assert m.press("1", 0) is None
    assert m.press("2", 0) == "2"


def test_memory_is_bounded_by_the_longest_pattern() -> None:
    """Typing without matches keeps only as many digits as the longest pattern."""
    m = DigitsMatcher(("999",), timeout_s=1.5)
    for _ in range(100):
        m.press("1", 0)
    assert m.typed == "111"
