"""Plivo's hangup cause table and how each kind of call end maps to it (call/causes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivoxml_fs.call import causes

DOC = Path(__file__).resolve().parents[2] / "docs" / "hangup-causes.md"


def _all_rows():
    yield causes.END_OF_XML
    yield causes.NO_ANSWER_URL
    yield causes.INTERNAL_ERROR
    yield causes.UNKNOWN
    yield causes.UNSPECIFIED_ANSWERED
    yield causes.UNMAPPED
    for table in (causes.HANGUP_VERB, causes.FETCH_FAILED, causes.INVALID_XML, causes.SIP,
                  causes.FREESWITCH):
        yield from table.values()


def test_every_row_names_a_plivo_code_and_a_basis():
    """Each mapping row's code is in Plivo's table; its basis is D or I; its source is Plivo's."""
    sources = {causes.CALLER, causes.RECIPIENT, causes.CARRIER, causes.PLIVO,
               causes.API_REQUEST, causes.ANSWER_XML, causes.ERROR, causes.UNKNOWN_SOURCE}
    for row in _all_rows():
        assert row.code in causes.CAUSES
        assert row.basis in ("D", "I")
        assert set(row.source if isinstance(row.source, tuple) else (row.source,)) <= sources


def test_names_are_plivos_exact_strings():
    """The codes apps branch on carry the names Plivo's hangup-causes page writes."""
    assert {code: causes.CAUSES[code] for code in (0, 3000, 3010, 3020, 4000, 4010, 4020, 4030,
                                                   6000, 7011, 8011)} == {
        0: "Unknown", 3000: "No Answer", 3010: "Busy Line", 3020: "Rejected",
        4000: "Normal Hangup", 4010: "End Of XML Instructions", 4020: "Multiparty Call Ended",
        4030: "Kicked Out Of Multiparty Call", 6000: "Scheduled Hangup",
        7011: "Error Reaching Answer URL", 8011: "Invalid Answer XML",
    }
    assert len(causes.CAUSES) == 53 and 3060 not in causes.CAUSES


def _said(cause, **kw):
    found = causes.classify(cause, **{"source": None, "answered": True, **kw})
    return found.code, found.name, found.source


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (causes.END_OF_XML, (4010, "End Of XML Instructions", "Plivo")),
        (causes.FETCH_FAILED["answer"], (7011, "Error Reaching Answer URL", "Error")),
        (causes.FETCH_FAILED["action"], (7012, "Error Reaching Action URL", "Error")),
        (causes.FETCH_FAILED["redirect"], (7014, "Error Reaching Redirect URL", "Error")),
        (causes.INVALID_XML["answer"], (8011, "Invalid Answer XML", "Error")),
        (causes.INVALID_XML["action"], (8012, "Invalid Action XML", "Error")),
        (causes.INVALID_XML["redirect"], (8014, "Invalid Redirect XML", "Error")),
        (causes.INTERNAL_ERROR, (5010, "Internal Error", "Error")),
        (causes.UNKNOWN, (0, "Unknown", "Unknown")),
    ],
)
def test_the_daemons_own_reason_wins(reason, expected):
    """§4 (a): whatever FreeSWITCH says, the daemon's reason for ending decides the code."""
    assert _said("NORMAL_TEMPORARY_FAILURE", reason=reason) == expected


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        ("NORMAL_CLEARING", (4000, "Normal Hangup", "Answer XML")),
        ("USER_BUSY", (3010, "Busy Line", "Answer XML")),
        ("CALL_REJECTED", (3020, "Rejected", "Answer XML")),
    ],
)
def test_the_hangup_element_by_its_cause(cause, expected):
    """A <Hangup> (source Answer XML): Normal Hangup, or busy / rejected by its reason."""
    assert _said(cause, source="Answer XML", answered=False) == expected


@pytest.mark.parametrize(
    ("cause", "outbound", "expected"),
    [
        ("NORMAL_CLEARING", False, (4000, "Normal Hangup", "Caller")),
        ("NORMAL_CLEARING", True, (4000, "Normal Hangup", "Call recipient")),
        ("ORIGINATOR_CANCEL", True, (4000, "Normal Hangup", "Caller")),
        ("USER_BUSY", True, (3010, "Busy Line", "Call recipient")),
        ("NO_ANSWER", True, (3000, "No Answer", "Call recipient")),
        ("NO_USER_RESPONSE", False, (3000, "No Answer", "Caller")),
        ("CALL_REJECTED", True, (3020, "Rejected", "Call recipient")),
        ("UNALLOCATED_NUMBER", True, (3050, "Unallocated number", "Carrier")),
        ("RECOVERY_ON_TIMER_EXPIRE", True, (3070, "Request timeout", "Carrier")),
        ("ALLOTTED_TIMEOUT", False, (6000, "Scheduled Hangup", "Plivo")),
        ("MEDIA_TIMEOUT", False, (6020, "Media Timeout", "Plivo")),
        ("MANAGER_REQUEST", False, (5010, "Internal Error", "Plivo")),
        ("SYSTEM_SHUTDOWN", False, (5010, "Internal Error", "Error")),
        ("GATEWAY_DOWN", True, (5020, "Routing Error", "Plivo")),
        ("LOSE_RACE", True, (9000, "Lost Race", "Plivo")),
    ],
)
def test_freeswitch_causes(cause, outbound, expected):
    """§4 (c): a call FreeSWITCH ended gets its cause's row; the other party is the Caller on
    an inbound leg and the Call recipient or the Carrier on an outbound one."""
    assert _said(cause, outbound=outbound) == expected


@pytest.mark.parametrize(
    ("cause", "sip", "expected"),
    [
        ("USER_BUSY", "600", (3100, "Busy everywhere")),
        ("CALL_REJECTED", "603", (3110, "Declined")),
        ("CALL_REJECTED", "403", (3040, "Forbidden")),
        ("CALL_REJECTED", "608", (3130, "Spam block")),
        ("NORMAL_TEMPORARY_FAILURE", "503", (3090, "Network congestion from carrier")),
        ("USER_BUSY", "486", (3010, "Busy Line")),
    ],
)
def test_a_sip_final_code_refines_the_cause(cause, sip, expected):
    """§4 (b): the SIP final code FreeSWITCH recorded picks the finer Plivo code."""
    assert _said(cause, sip_status=sip, outbound=True)[:2] == expected


def test_unspecified_and_unmapped():
    """NORMAL_UNSPECIFIED is a normal end once answered, else Unknown; so is any unknown name."""
    assert _said("NORMAL_UNSPECIFIED") == (4000, "Normal Hangup", "Caller")
    assert _said("NORMAL_UNSPECIFIED", answered=False) == (0, "Unknown", "Unknown")
    assert _said("NONE") == (0, "Unknown", "Unknown")
    assert _said("SOMETHING_NEW") == (0, "Unknown", "Unknown")


def test_a_known_source_wins_over_the_rows():
    """A teller who knows who ended the call (a restarted daemon, say) keeps its source."""
    assert _said("NORMAL_CLEARING", source="Plivo") == (4000, "Normal Hangup", "Plivo")


def test_the_doc_lists_every_code_and_freeswitch_cause():
    """docs/hangup-causes.md names every Plivo code and every FreeSWITCH cause of the tables."""
    text = DOC.read_text()
    for code in causes.CAUSES:
        assert f"| {code} |" in text, code
    for name in causes.FREESWITCH:
        assert f"`{name}`" in text, name
