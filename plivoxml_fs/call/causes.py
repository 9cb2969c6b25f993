"""Plivo's hangup causes: the `HangupCauseCode` / `HangupCauseName` of a call's end.

One table, keyed as `reference/plivo-hangup-causes.md` gives it (docs/hangup-causes.md lists
every row with its basis):

- `CAUSES`: §3, Plivo code -> Plivo name, the exact strings of Plivo's hangup-causes page;
- §4 (a) the daemon's own reason for ending the call wins: `END_OF_XML`, `HANGUP_VERB` (the
  `<Hangup>` element, by the cause it hung up with), `FETCH_FAILED` / `INVALID_XML` (by the
  kind of URL: answer, action, redirect), `INTERNAL_ERROR`, `NO_ANSWER_URL`, `UNKNOWN`;
- §4 (b) else a SIP final code FreeSWITCH recorded refines a cause (`SIP`);
- §4 (c) else FreeSWITCH's Hangup-Cause (`FREESWITCH`).

Each row says its basis: "D" = Plivo documents the situation and the code, "I" = the pairing
is inferred here (Plivo publishes the codes, not how a FreeSWITCH cause maps to them). A row's
source may be `REMOTE` or `REMOTE_CARRIER`: the other party, which is the Caller on an inbound
leg and the Call recipient (or the Carrier) on an outbound one.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

#: HangupSource values (Plivo's list; the CDR docs spell `Call recipient` as `Callee`).
CALLER = "Caller"
RECIPIENT = "Call recipient"
CARRIER = "Carrier"
PLIVO = "Plivo"
API_REQUEST = "API Request"
ANSWER_XML = "Answer XML"
ERROR = "Error"
UNKNOWN_SOURCE = "Unknown"
#: Row sources resolved by the leg's direction: (inbound, outbound).
REMOTE = (CALLER, RECIPIENT)
REMOTE_CARRIER = (CALLER, CARRIER)

#: §3: every Plivo hangup code and its name, as Plivo's page writes them.
CAUSES: Mapping[int, str] = {
    0: "Unknown",
    1000: "Canceled",
    1010: "Canceled (Out Of Credits)",
    1020: "Canceled (Simultaneous dial limit reached)",
    2000: "Invalid Destination Address",
    2010: "Destination Out Of Service",
    2020: "Endpoint Not Registered",
    2030: "Destination Country Barred",
    2040: "Destination Number Barred",
    2050: "Destination Prefix Barred",
    2060: "Loop Detected",
    2070: "Violates Media Anchoring",
    3000: "No Answer",
    3010: "Busy Line",
    3020: "Rejected",
    3030: "Unknown Caller ID",
    3040: "Forbidden",
    3050: "Unallocated number",
    3070: "Request timeout",
    3080: "Internal server error from carrier",
    3090: "Network congestion from carrier",
    3100: "Busy everywhere",
    3110: "Declined",
    3120: "User does not exist anywhere",
    3130: "Spam block",
    3140: "DNO Caller ID",
    4000: "Normal Hangup",
    4010: "End Of XML Instructions",
    4020: "Multiparty Call Ended",
    4030: "Kicked Out Of Multiparty Call",
    5000: "Network Error",
    5010: "Internal Error",
    5020: "Routing Error",
    6000: "Scheduled Hangup",
    6010: "Ring Timeout Reached",
    6020: "Media Timeout",
    7011: "Error Reaching Answer URL",
    7012: "Error Reaching Action URL",
    7013: "Error Reaching Transfer URL",
    7014: "Error Reaching Redirect URL",
    7022: "Invalid Action URL",
    7023: "Invalid Transfer URL",
    7024: "Invalid Redirect URL",
    7032: "Invalid Method For Action URL",
    7033: "Invalid Method For Transfer URL",
    7034: "Invalid Method For Redirect URL",
    8011: "Invalid Answer XML",
    8012: "Invalid Action XML",
    8013: "Invalid Transfer XML",
    8014: "Invalid Redirect XML",
    9000: "Lost Race",
    9100: "Machine Detected",
    9110: "Confirm Key Challenge Failed",
}


@attrs.frozen
class Row:
    """One mapping row: the Plivo code, who ended the call, and the row's basis (D or I)."""

    code: int
    source: str | tuple[str, str]
    basis: str

    @property
    def name(self) -> str:
        return CAUSES[self.code]


@attrs.frozen
class PlivoCause:
    """What the hangup URL says about the end: HangupCauseCode, HangupCauseName, HangupSource."""

    code: int
    name: str
    source: str


# -- §4 (a): the daemon's own reasons ----------------------------------------------------------

#: The document ran out of elements and the daemon hung up.
END_OF_XML = Row(4010, PLIVO, "D")
#: The `<Hangup>` element, by the cause it hung up with (reason busy/rejected, or none).
HANGUP_VERB: Mapping[str, Row] = {
    "NORMAL_CLEARING": Row(4000, ANSWER_XML, "D"),
    "CALL_REJECTED": Row(3020, ANSWER_XML, "I"),
    "USER_BUSY": Row(3010, ANSWER_XML, "I"),
}
#: A document could not be fetched (network, timeout, non-2xx, not XML, too large), by URL kind.
#: The fallback URL stands in for the answer URL.
FETCH_FAILED: Mapping[str, Row] = {
    "answer": Row(7011, ERROR, "D"),
    "action": Row(7012, ERROR, "D"),
    "redirect": Row(7014, ERROR, "D"),
}
#: A fetched document failed parsing or validation, by URL kind.
INVALID_XML: Mapping[str, Row] = {
    "answer": Row(8011, ERROR, "D"),
    "action": Row(8012, ERROR, "D"),
    "redirect": Row(8014, ERROR, "D"),
}
#: No answer URL at all (neither channel variable nor setting).
NO_ANSWER_URL = Row(7011, ERROR, "I")
#: The daemon could not go on: FreeSWITCH refused or timed out a command, a verb it cannot
#: run, a value it will not send, too many redirects, a bug.
INTERNAL_ERROR = Row(5010, ERROR, "I")
#: The connection went away with no hangup event: nobody can say how the call ended.
UNKNOWN = Row(0, UNKNOWN_SOURCE, "I")
#: A participant the control API dialled with confirm_key did not press it (wrong key, no key
#: in time, or no prompt to ask with): the daemon hung it up (call/confirm.py).
CONFIRM_KEY_FAILED = Row(9110, PLIVO, "D")

# -- §4 (b): SIP final codes that refine a FreeSWITCH cause ------------------------------------

SIP: Mapping[tuple[str, str], Row] = {
    ("USER_BUSY", "600"): Row(3100, REMOTE_CARRIER, "I"),
    ("CALL_REJECTED", "603"): Row(3110, REMOTE_CARRIER, "I"),
    ("CALL_REJECTED", "401"): Row(3040, REMOTE_CARRIER, "I"),
    ("CALL_REJECTED", "403"): Row(3040, REMOTE_CARRIER, "I"),
    ("CALL_REJECTED", "407"): Row(3040, REMOTE_CARRIER, "I"),
    ("CALL_REJECTED", "608"): Row(3130, REMOTE_CARRIER, "I"),
    ("NO_ROUTE_DESTINATION", "604"): Row(3120, REMOTE_CARRIER, "I"),
    ("NORMAL_TEMPORARY_FAILURE", "500"): Row(3080, REMOTE_CARRIER, "I"),
    ("NORMAL_TEMPORARY_FAILURE", "503"): Row(3090, REMOTE_CARRIER, "I"),
}

# -- §4 (c): FreeSWITCH's Hangup-Cause when FreeSWITCH (not the daemon) ended the call ---------


def _rows(code: int, source: str | tuple[str, str], basis: str, *names: str) -> dict[str, Row]:
    return {name: Row(code, source, basis) for name in names}


FREESWITCH: Mapping[str, Row] = {
    **_rows(4000, REMOTE, "I", "NORMAL_CLEARING", "BLIND_TRANSFER", "ATTENDED_TRANSFER",
            "PICKED_OFF", "BOWOUT"),
    **_rows(4000, CALLER, "I", "ORIGINATOR_CANCEL"),
    **_rows(3000, REMOTE, "I", "NO_ANSWER", "NO_USER_RESPONSE"),
    **_rows(3010, REMOTE, "I", "USER_BUSY"),
    **_rows(3100, REMOTE_CARRIER, "I", "BUSY_EVERYWHERE"),
    **_rows(3020, REMOTE, "I", "CALL_REJECTED"),
    **_rows(3110, REMOTE_CARRIER, "I", "DECLINE"),
    **_rows(3040, REMOTE_CARRIER, "I", "OUTGOING_CALL_BARRED", "INCOMING_CALL_BARRED"),
    **_rows(3130, REMOTE_CARRIER, "I", "UNWANTED"),
    **_rows(3050, REMOTE_CARRIER, "I", "UNALLOCATED_NUMBER", "NUMBER_CHANGED"),
    **_rows(3120, REMOTE_CARRIER, "I", "DOES_NOT_EXIST_ANYWHERE"),
    **_rows(2000, REMOTE_CARRIER, "I", "INVALID_NUMBER_FORMAT"),
    **_rows(2010, REMOTE_CARRIER, "I", "DESTINATION_OUT_OF_ORDER", "SUBSCRIBER_ABSENT"),
    **_rows(2020, PLIVO, "I", "USER_NOT_REGISTERED"),
    **_rows(2060, PLIVO, "I", "EXCHANGE_ROUTING_ERROR"),
    **_rows(3070, REMOTE_CARRIER, "I", "RECOVERY_ON_TIMER_EXPIRE", "PROGRESS_TIMEOUT"),
    **_rows(3080, REMOTE_CARRIER, "I", "SERVICE_UNAVAILABLE", "SERVICE_NOT_IMPLEMENTED",
            "INTERWORKING"),
    **_rows(3090, REMOTE_CARRIER, "I", "SWITCH_CONGESTION", "NORMAL_CIRCUIT_CONGESTION",
            "REQUESTED_CHAN_UNAVAIL"),
    **_rows(5000, ERROR, "I", "NETWORK_OUT_OF_ORDER", "SRTP_READ_ERROR"),
    **_rows(5020, PLIVO, "I", "GATEWAY_DOWN", "INVALID_GATEWAY", "INVALID_PROFILE",
            "NO_ROUTE_DESTINATION"),
    **_rows(5010, ERROR, "I", "INCOMPATIBLE_DESTINATION", "CRASH", "SYSTEM_SHUTDOWN"),
    **_rows(5010, PLIVO, "I", "MANAGER_REQUEST"),
    **_rows(6000, PLIVO, "D", "ALLOTTED_TIMEOUT"),
    **_rows(6020, PLIVO, "D", "MEDIA_TIMEOUT"),
    **_rows(9000, PLIVO, "D", "LOSE_RACE"),
}
#: NORMAL_UNSPECIFIED: a normal end if the call was answered, else nothing is known.
UNSPECIFIED_ANSWERED = Row(4000, REMOTE, "I")
#: NORMAL_UNSPECIFIED unanswered, NONE, and every name not in the tables.
UNMAPPED = Row(0, UNKNOWN_SOURCE, "I")


def freeswitch_row(cause: str, *, sip_status: str = "", answered: bool) -> Row:
    """§4 (b) then (c): the row for a call FreeSWITCH ended with `cause`."""
    row = SIP.get((cause, sip_status)) if sip_status else None
    if row is not None:
        return row
    if cause == "NORMAL_UNSPECIFIED" and answered:
        return UNSPECIFIED_ANSWERED
    return FREESWITCH.get(cause, UNMAPPED)


def hangup_verb_row(cause: str) -> Row:
    """The row of a `<Hangup>` element that hung up with `cause`."""
    return HANGUP_VERB.get(cause, HANGUP_VERB["NORMAL_CLEARING"])


def resolve(row: Row, *, outbound: bool, source: str | None = None) -> PlivoCause:
    """The row as the hangup URL says it; `source` (when given) wins over the row's."""
    if source is None:
        source = row.source[outbound] if isinstance(row.source, tuple) else row.source
    return PlivoCause(row.code, row.name, source)


def classify(
    cause: str,
    *,
    source: str | None,
    answered: bool,
    outbound: bool = False,
    sip_status: str = "",
    reason: Row | None = None,
) -> PlivoCause:
    """The Plivo cause of a call that ended with FreeSWITCH cause `cause`.

    `reason` is the daemon's own reason (§4 a) when it ended the call; `source` is the
    HangupSource the caller of this function knows, or None when FreeSWITCH ended the call
    (the row then says who, by the leg's direction). A `<Hangup>` element is known by its
    source, Answer XML.
    """
    if reason is None and source == ANSWER_XML:
        reason = hangup_verb_row(cause)
    row = reason or freeswitch_row(cause, sip_status=sip_status, answered=answered)
    return resolve(row, outbound=outbound, source=source)
