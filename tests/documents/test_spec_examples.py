"""Every XML example on the two spec pages (copied to fixtures/spec/) validates as the page means."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivoxml_fs.documents import Conference, MultiPartyCall, check_paths, parse_document

FIXTURES = Path(__file__).parent / "fixtures" / "spec"
COMPLETE = sorted(p for p in FIXTURES.glob("*.xml") if "fragment" not in p.name)


def load(path: Path):
    return parse_document(path.read_bytes(), source=path.name, max_bytes=65536)


def test_all_examples_are_there():
    """Eleven Conference and eight MultiPartyCall examples were copied from the spec pages."""
    names = [p.name for p in FIXTURES.glob("*.xml")]
    assert (sum(n.startswith("conference-") for n in names),
            sum(n.startswith("mpc-") for n in names)) == (11, 8)


@pytest.mark.parametrize("path", COMPLETE, ids=[p.name for p in COMPLETE])
def test_spec_example_is_valid(path):
    """Each complete example is one valid Conference or MultiPartyCall."""
    (verb,) = load(path).verbs
    assert isinstance(verb, Conference if path.name.startswith("conference") else MultiPartyCall)


def test_moderated_conference_participant_example():
    """The spec's moderated-meeting participant example reads as the page describes."""
    (verb,) = load(FIXTURES / "conference-05.xml").verbs
    assert (verb.name, verb.start_conference_on_enter, verb.wait_sound) == (
        "moderated-meeting", False, "https://example.com/hold-music.xml"
    )


def test_status_callback_fragment_lacks_the_required_role():
    """The spec's statusCallbackEvents snippet omits role, which the same page requires."""
    path = FIXTURES / "mpc-08-fragment-without-role.xml"
    assert check_paths([str(path)]) == (
        False, f"{path}:3:5 <MultiPartyCall> role: is required"
    )
