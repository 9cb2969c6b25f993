"""fs/profile_check.py: what a conference profile would say to a room by itself, from the
conference.conf section FreeSWITCH answers to xml_locate (the real one: tests/test_freeswitch_live.py)."""

from __future__ import annotations

import logging

from plivoxml_fs.fs import profile_check


def conf(*params: tuple[str, str], name: str = "default") -> str:
    lines = "".join(f'<param name="{k}" value="{v}"></param>' for k, v in params)
    return (f'<configuration name="conference.conf"><profiles><profile name="{name}">{lines}'
            f"</profile></profiles></configuration>")


TTS = (("tts-engine", "flite"), ("tts-voice", "slt"))


def test_a_silent_alone_sound_is_quiet():
    assert profile_check.problems(conf(*TTS, ("alone-sound", "silence_stream://20")),
                                  "default") == []


def test_no_tts_and_no_alone_sound_is_quiet():
    assert profile_check.problems(conf(("rate", "8000")), "default") == []


def test_tts_without_alone_sound_talks():
    (problem,) = profile_check.problems(conf(*TTS), "default")
    assert "'default' has a tts-engine and no alone-sound" in problem
    assert "You are currently the only person" in problem and "silence_stream://20" in problem


def test_an_alone_sound_file_is_heard():
    (problem,) = profile_check.problems(
        conf(*TTS, ("alone-sound", "conference/conf-alone.wav")), "default")
    assert "alone-sound 'conference/conf-alone.wav'" in problem


def test_a_missing_profile_and_a_reply_that_is_no_xml():
    (missing,) = profile_check.problems(conf(*TTS, name="other"), "default")
    assert "'default' (setting conference_profile) is not in" in missing
    (broken,) = profile_check.problems("<configuration", "default")
    assert "is not XML" in broken
    (refused,) = profile_check.check(lambda cmd: "-ERR bad args\n", ["default"])
    assert "did not give its conference.conf ('-ERR bad args')" in refused


def test_check_asks_xml_locate_once_for_all_profiles():
    asked = []

    def api(cmd: str) -> str:
        asked.append(cmd)
        return conf(*TTS)

    assert len(profile_check.check(api, ["default", "default"])) == 2
    assert asked == ["xml_locate configuration configuration name conference.conf"]


def test_warn_logs_each_problem_and_survives_a_failed_ask(caplog):
    caplog.set_level(logging.WARNING, "plivoxml_fs.fs.profile_check")
    assert len(profile_check.warn(lambda cmd: conf(*TTS), ["default"])) == 1

    def down(cmd: str) -> str:
        raise ConnectionError("FreeSWITCH went away")

    (problem,) = profile_check.warn(down, ["default"])
    assert "not checked: FreeSWITCH went away" in problem
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]
