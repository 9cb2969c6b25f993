"""add participant's `dial_music` as a URL: what the MPC hears while the participant is dialled.

Plivo's `<Dial dialMusic>` is "music played to the caller while the call is being connected";
an added participant's caller is the MPC, so a URL here is what the MPC's members hear from
the request until AddParticipantByAPIActionCompleted (a leg answered, and confirmed when
confirm_key asks it; or every leg failed): over the room once the MPC started, in place of the
wait music before it; held members keep their hold music, ai-agents hear none
(rooms/mpc.py `MpcRoom.dial_music`). When the added participant creates the MPC nobody is
there to hear it, so nothing is fetched.

The URL is fetched as `<Dial>`'s dialMusic is (POST, with MPCUUID, MPCName and RequestUUID):
an audio answer plays from the URL, a document of Play, Speak and Wait plays in order, looped
(verbs/sounds.py). A URL that cannot be fetched, or a document with anything else, is one
WARNING naming it: the dial goes on, the MPC hears nothing of it.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent

from plivoxml_fs.api.server import ApiRequest
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.errors import PlivoXMLError
from plivoxml_fs.verbs import sounds

log = logging.getLogger("plivoxml_fs.api")

#: `<Dial>`'s dialMusic is fetched with POST (Plivo's Dial page); add participant names no method.
METHOD = "POST"


class DialMusic:
    """One request's dial music: fetched in the background, played until `stop()`."""

    def __init__(self, ctx: Any, req: ApiRequest, room: Any, url: str) -> None:
        self.ctx, self.req, self.room, self.url = ctx, req, room, url
        self.over = False  # the dial is over: nothing more is played
        self.playing = False  # the room was told to play it

    @classmethod
    def start(cls, ctx: Any, req: ApiRequest, room: Any, url: str) -> DialMusic | None:
        """The dial music of `req` into `room`, or None when there is none to play."""
        if not url or room is None or ctx.fetcher is None:
            return None
        music = cls(ctx, req, room, url)
        gevent.spawn(music.fetch_and_play)
        return music

    def stop(self) -> None:
        """The dial is over (its Completed): the members' music is what it was before."""
        self.over = True
        if self.playing:
            self.playing = False
            self.ctx.rooms.decide(self.room, lambda _: self.room.dial_music(self.req.api_id,
                                                                             None))

    def fetch_and_play(self) -> None:
        """Fetch the music and tell the room to play it, unless the dial is over by then."""
        view = self.room.view()
        params = {"MPCUUID": view.mpc_uuid, "MPCName": view.name,
                  "RequestUUID": self.req.api_id}
        try:
            parts = sounds.resolve_parts(self.ctx.fetcher, self.url, METHOD, params,
                                         what="add participant dial_music",
                                         max_bytes=self.ctx.settings.max_document_bytes)
        except PlivoXMLError as exc:
            log.warning("add participant: %s; the MPC hears nothing of the dial", exc,
                        extra={"account": self.req.account, "api_id": self.req.api_id})
            return
        if self.over:
            return
        music = sounds.grouped(parts)
        log.debug("add participant: dial music %s into MPC %s", shown_url(self.url),
                  view.name, extra={"api_id": self.req.api_id})
        self.playing = True
        self.ctx.rooms.decide(self.room, lambda _: self.room.dial_music(self.req.api_id, music))
