"""mod_conference's energy gate: which 20 ms frames of a member's audio reach the room's mix.

FreeSWITCH 1.10.12, conference_loop.c `conference_loop_input` (lines 811, 955-1200 of the
v1.10.12 tag) and conference_member.c `conference_member_noise_gate_check` (line 44), for each
frame a member that can speak (not muted, not on hold) sends:

- its score is the mean absolute sample, integer division (`energy / samples`, line 974);
- the frame passes the gate when score > the member's energy level (strictly; line 46);
- a passing frame takes one off the hangover count (when not 0), then starts or keeps the talk
  when score - level >= 400 (`diff_level`) or, otherwise, when it is the 5th (`hangunder`) net
  passing frame (the count goes up by one per passing frame and down by one, not below 0, per
  failing frame; line 1131); starting or keeping the talk zeroes both counts;
- a failing frame takes one off the hangunder count (when not 0) and, while talking, adds one
  to the hangover count: at 40 (`hangover`) the talk ends (stop-talking; line 1182);
- the frame is mixed when, after that, the member is talking, or its level is 0, or the room
  has `audio-always` (line 1211). A frame not mixed is not written into the member's buffer at
  all: the room's mix (and its recording) has nothing of it, so it is silence there.

So with the shipped level 100, a sound that starts softly (score 101-499) loses its first 4
frames (80 ms), a loud start (score >= 500) none; the frames after the sound are mixed for 39
more frames (the 40th failing frame ends the talk before the mix). The counts live as long as
the member's input thread (they are not reset by mute or hold; mute and hold clear the talk).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

#: conference_loop.c line 811: hangover = 40, hangunder = 5, diff_level = 400.
HANGOVER_FRAMES = 40
HANGUNDER_FRAMES = 5
DIFF_LEVEL = 400


def score(samples: Sequence[int]) -> int:
    """A frame's score: the mean absolute sample (integer division), as line 974."""
    if not samples:
        return 0
    return sum(abs(s) for s in samples) // len(samples)


@attrs.define
class Gate:
    """One member's gate state (conference_loop_input's local counts and MFLAG_TALKING)."""

    talking: bool = False
    hangover_hits: int = 0
    hangunder_hits: int = 0

    def frame(self, frame_score: int, level: int, speaks: bool = True,
              audio_always: bool = False) -> bool:
        """Feed one frame; whether it is mixed. `speaks`: the member can speak and is not on
        hold (otherwise nothing is measured, the talk is off, nothing mixed)."""
        if not speaks:
            self.talking = False
            return False
        if frame_score > level:
            if self.hangover_hits:
                self.hangover_hits -= 1
            if frame_score - level >= DIFF_LEVEL:
                self.hangover_hits = self.hangunder_hits = 0
                self.talking = True
            else:
                self.hangunder_hits += 1
                if self.hangunder_hits >= HANGUNDER_FRAMES:
                    self.hangover_hits = self.hangunder_hits = 0
                    self.talking = True
        else:
            if self.hangunder_hits:
                self.hangunder_hits -= 1
            if self.talking:
                self.hangover_hits += 1
                if self.hangover_hits >= HANGOVER_FRAMES:
                    self.hangover_hits = self.hangunder_hits = 0
                    self.talking = False
        return self.talking or level == 0 or audio_always


def mixed_frames(scores: Iterable[int], level: int) -> list[bool]:
    """For each frame score of one member from its join, whether the frame is mixed."""
    gate = Gate()
    return [gate.frame(s, level) for s in scores]
