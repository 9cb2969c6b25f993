"""Plivo request parameters built from real FreeSWITCH channel data (the lifecycle trace)."""

from __future__ import annotations

from esl import traces

from plivoxml_fs.call import causes, params
from plivoxml_fs.esl.codec import MessageParser
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.testing import channel_data


def _trace_messages():
    parser = MessageParser()
    found = []
    for entry in traces.incoming("lifecycle.txt", "outbound-1"):
        found.extend(parser.feed(entry.data))
    return found


def connect_reply() -> Event:
    message = next(m for m in _trace_messages() if m.get("Event-Name") == "CHANNEL_DATA")
    return Event(message.headers)


def outbound_event(name: str) -> Event:
    return next(m.event() for m in _trace_messages() if m.is_event and m.event().name == name)


def test_answer_params_from_the_connect_reply():
    """The connect reply of a real call gives CallUUID, From, To, Direction and the status."""
    channel = connect_reply()
    assert params.call_params(channel, status=params.status_of(channel)) == {
        "CallUUID": "fb118d4e-457b-4ae3-ba78-63b3e536d86f",
        "From": "1001",
        "To": "L1",
        "CallerName": "",
        "Direction": "inbound",
        "CallStatus": "ringing",
    }


def test_forwarded_from_and_outbound_direction():
    """A redirecting number becomes ForwardedFrom; an originated leg is outbound."""
    channel = Event({**channel_data(direction="outbound").headers, "Caller-RDNIS": "+4420"})
    result = params.call_params(channel, status="in-progress")
    assert result["ForwardedFrom"] == "+4420"
    assert result["Direction"] == "outbound"


def test_hangup_params_from_channel_hangup_complete():
    """CHANNEL_HANGUP_COMPLETE of the real call: cause, durations and UTC times as FreeSWITCH saw."""
    channel = connect_reply()
    event = outbound_event("CHANNEL_HANGUP_COMPLETE")
    result = params.hangup_params(
        channel, event, cause="NORMAL_CLEARING", source="Caller", answered_us=0, now_us=0
    )
    assert result["CallStatus"] == "completed"
    assert result["HangupCause"] == "NORMAL_CLEARING"
    assert result["HangupSource"] == "Caller"
    # FreeSWITCH's own variable_duration / variable_billsec for this call were 5 and 5.
    assert (result["Duration"], result["BillDuration"]) == (
        event.variable("duration"),
        event.variable("billsec"),
    )
    assert result["StartTime"] == "2026-11-24 03:03:06"
    assert result["AnswerTime"] == "2026-11-24 03:03:06"
    assert result["EndTime"] == "2026-11-24 03:03:11"


def test_hangup_params_from_channel_hangup_use_the_event_time():
    """CHANNEL_HANGUP has no hangup time yet: the event's own timestamp is the end."""
    channel = connect_reply()
    event = outbound_event("CHANNEL_HANGUP")
    result = params.hangup_params(
        channel, event, cause="X", source="Caller", answered_us=0, now_us=0
    )
    assert (result["Duration"], result["BillDuration"]) == ("5", "5")
    assert result["EndTime"] == "2026-11-24 03:03:11"


def test_hangup_params_without_an_event():
    """Connection lost before any hangup event: our cause, our answer time and now."""
    channel = channel_data()
    created = int(channel["Caller-Channel-Created-Time"])
    result = params.hangup_params(
        channel,
        None,
        cause="NORMAL_UNSPECIFIED",
        source="Unknown",
        answered_us=created + 1_500_000,
        now_us=created + 10_000_000,
    )
    assert (result["HangupCause"], result["HangupSource"]) == ("NORMAL_UNSPECIFIED", "Unknown")
    assert (result["Duration"], result["BillDuration"]) == ("10", "8")


def test_unanswered_call_status():
    """Never answered: empty AnswerTime, BillDuration 0; an outbound leg reports why."""
    inbound = channel_data()
    created = int(inbound["Caller-Channel-Created-Time"])
    result = params.hangup_params(
        inbound,
        None,
        cause="USER_BUSY",
        source="Answer XML",
        answered_us=0,
        now_us=created + 3_000_000,
    )
    assert (result["CallStatus"], result["AnswerTime"], result["BillDuration"]) == (
        "completed",
        "",
        "0",
    )
    outbound = channel_data(direction="outbound")
    for cause, status in [("USER_BUSY", "busy"), ("NO_ANSWER", "no-answer"), ("X", "failed")]:
        assert params.final_status(outbound, cause, answered=False) == status


def test_hangup_params_carry_plivos_cause_code_and_name():
    """HangupCauseCode/Name come from the cause table: the daemon's reason, else FreeSWITCH's."""
    channel = connect_reply()
    event = outbound_event("CHANNEL_HANGUP_COMPLETE")
    by_caller = params.hangup_params(
        channel, event, cause="NORMAL_CLEARING", source=None, answered_us=0, now_us=0
    )
    assert (by_caller["HangupCauseCode"], by_caller["HangupCauseName"],
            by_caller["HangupSource"]) == ("4000", "Normal Hangup", "Caller")
    ended = params.hangup_params(
        channel, event, cause="NORMAL_CLEARING", source="Plivo", answered_us=0, now_us=0,
        reason=causes.END_OF_XML,
    )
    assert (ended["HangupCauseCode"], ended["HangupCauseName"], ended["HangupSource"]) == (
        "4010", "End Of XML Instructions", "Plivo")


def test_hangup_params_read_the_sip_final_code():
    """An outbound leg refused with SIP 603: CALL_REJECTED becomes 3110 Declined, Carrier."""
    channel = channel_data(direction="outbound")
    event = Event({"Event-Name": "CHANNEL_HANGUP", "Hangup-Cause": "CALL_REJECTED",
                   "variable_sip_term_status": "603"})
    result = params.hangup_params(channel, event, cause="X", source=None, answered_us=0,
                                  now_us=0)
    assert (result["HangupCauseCode"], result["HangupCauseName"], result["HangupSource"],
            result["CallStatus"]) == ("3110", "Declined", "Carrier", "failed")


def test_session_start_is_when_media_began():
    """SessionStart: early media when there was some, else the answer, else empty; UTC µs."""
    channel = channel_data()
    created = int(channel["Caller-Channel-Created-Time"])
    early = Event({"Event-Name": "CHANNEL_HANGUP", "Hangup-Cause": "NORMAL_CLEARING",
                   "Caller-Channel-Progress-Media-Time": str(created + 1_250_000),
                   "Caller-Channel-Answered-Time": str(created + 3_000_000)})
    result = params.hangup_params(channel, early, cause="X", source=None, answered_us=0,
                                  now_us=0)
    assert result["SessionStart"] == params.format_time(created + 1_250_000, fraction=True)
    assert result["SessionStart"].endswith(f".{(created + 1_250_000) % 1_000_000:06d}")
    answered = params.hangup_params(channel, None, cause="X", source=None,
                                    answered_us=created + 2_000_000, now_us=created + 5_000_000)
    assert answered["SessionStart"] == params.format_time(created + 2_000_000, fraction=True)
    never = params.hangup_params(channel, None, cause="USER_BUSY", source="Answer XML",
                                 answered_us=0, now_us=created + 1)
    assert never["SessionStart"] == ""


def test_custom_sip_headers_are_echoed():
    """X-PH-* SIP headers the call arrived with are on every request; other headers are not."""
    channel = channel_data(variables={"sip_h_X-PH-Ticket": "T-42", "sip_h_X-Other": "no",
                                      "sip_h_x-ph-lower": "yes"})
    assert params.custom_headers(channel) == {"X-PH-Ticket": "T-42", "x-ph-lower": "yes"}
    assert params.call_params(channel, status="ringing")["X-PH-Ticket"] == "T-42"
    hangup = params.hangup_params(channel, None, cause="X", source=None, answered_us=0, now_us=0)
    assert "X-Other" not in hangup and hangup["x-ph-lower"] == "yes"
def test_journalled_channel_gives_the_same_parameters():
    """What the call journal keeps of a real connect reply gives the same call and hangup
    parameters as the whole reply (a recovered hangup callback says what the normal one would)."""
    from plivoxml_fs.effects.outbox import journal_channel

    full = connect_reply()
    kept = Event(journal_channel(full))
    assert len(kept.headers) < len(full.headers) / 2
    for status in (params.RINGING, params.IN_PROGRESS):
        assert params.call_params(kept, status=status) == params.call_params(full, status=status)
    with_header = channel_data(variables={"sip_h_X-PH-Ticket": "T-42"})
    assert params.call_params(Event(journal_channel(with_header)), status=params.RINGING)[
        "X-PH-Ticket"] == "T-42"
    ending = {"cause": "NORMAL_UNSPECIFIED", "source": params.SOURCE_RESTART,
              "answered_us": 1_795_489_390_000_000, "now_us": 1_795_489_400_000_000}
    assert params.hangup_params(kept, None, **ending) == params.hangup_params(full, None, **ending)
