"""The official Plivo SDK pointed at this daemon's control API (docs/api.md).

The SDK has no base-URL option: `RestClient.request` sets its `base_uri` anew on every call,
always to `https://api.plivo.com/v1/Account`. So the client is left as it is and its requests
session gets a transport adapter for that host: every request the SDK prepares for
`https://api.plivo.com/...` is sent to `base_url` + the same path and query, with the SDK's own
headers, body and Basic credentials. Nothing global is patched; other sessions and other
`RestClient`s still talk to Plivo.

    from plivoxml_fs.client import rest_client
    client = rest_client("http://127.0.0.1:8095", "MA0123456789ABCDEFGH", "token")
    client.conferences.member_mute("sales", "all")
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

#: Where the SDK sends every request (plivo.rest.client PLIVO_API and API_VOICE*).
PLIVO_API = "https://api.plivo.com"


class DaemonAdapter(HTTPAdapter):
    """Sends requests prepared for `PLIVO_API` to `base_url` instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        url = request.url or ""
        if url.startswith(PLIVO_API):
            request = request.copy()
            request.url = self.base_url + url[len(PLIVO_API):]
        return super().send(request, *args, **kwargs)


def point_at(client: Any, base_url: str) -> Any:
    """Mount the adapter on `client`'s sessions (a `plivo.RestClient`); returns the client."""
    for session in (client.session, client.multipart_session):
        session.mount(PLIVO_API + "/", DaemonAdapter(base_url))
    return client


def rest_client(base_url: str, auth_id: str, auth_token: str, **kwargs: Any) -> Any:
    """A real `plivo.RestClient(auth_id, auth_token, **kwargs)` whose requests go to
    `base_url` (e.g. `http://127.0.0.1:8095`, or the TLS proxy in front of the daemon)."""
    try:
        import plivo
    except ImportError:
        raise ImportError("plivoxml_fs.client.rest_client needs the official Plivo SDK: "
                          "pip install 'plivoxml-fs[client]'") from None
    return point_at(plivo.RestClient(auth_id, auth_token, **kwargs), base_url)


def add_ai_agent(client: Any, *, friendly_name: str | None = None, uuid: str | None = None,
                 **params: Any) -> Any:
    """Add an AI participant (role ai-agent) to an MPC through `client`'s own request (the
    SDK's signing, retries and errors): the SDK's `add_participant` has no `ai_agent_stream_*`
    keyword and insists on `from`/`to` or `call_uuid`, which an AI participant has none of
    (the daemon makes its leg). `params` are the body: `ai_agent_stream_service_url=...`,
    `coach_mode=False`, ... (docs/api.md); None values are left out.

        add_ai_agent(client, friendly_name="support-1",
                     ai_agent_stream_service_url="wss://ai.example.com/stream")
    """
    if (friendly_name is None) == (uuid is None):
        raise ValueError("give friendly_name or uuid")
    mpc_id = f"name_{friendly_name}" if friendly_name is not None else f"uuid_{uuid}"
    body = {"role": "ai-agent", **{k: v for k, v in params.items() if v is not None}}
    return client.request("POST", ("MultiPartyCall", mpc_id, "Participant"), body,
                          is_voice_request=True)
