"""The control API's HTTP server: Plivo's REST paths, HTTP Basic accounts, Plivo's errors.

`ControlApp` is a WSGI application: it authenticates the request (HTTP Basic, an account of
`api_auth`; the path's auth id must be that account's), matches it against the route table
(api/routes.py, werkzeug.routing), reads the parameters (the query string for GET, the JSON body
otherwise, as the SDK sends them) and calls the route's handler with an `ApiRequest`. Answers
are JSON; errors are Plivo's `{"api_id": ..., "error": "..."}`: 401 bad credentials, 404 no
such route, room or member, 405 a wrong verb (with Allow), 400 a bad parameter (named).

A handler that changed something (`ApiRequest.acted`) never gets a 5xx: the SDK repeats a
5xx three times at once, which would repeat the change. Should building the answer fail after
that, the answer is 202 saying the request was carried out.

Plivo's asynchronous requests: any request with `callback_url` (and `callback_method`, GET or
POST, default POST) is answered at once, 202 `{"api_id", "message": "async api spawned"}`,
and carried out afterwards in its own greenlet; the answer it would have had goes to
`callback_url` through the outbox (durable, signed, retried like every callback): the answer's
fields as parameters (lists and objects as JSON text, booleans `true`/`false`), its `api_id`
(the one of the spawned answer) and `status_code` (what the request would have been answered
with: 200, 204, 400, 404, ...; ours, Plivo names none). Authentication, routing (404, 405) and
a bad `callback_url` or `callback_method` are still answered at once. A route whose handler
gives `callback_url` a meaning of its own (the Conference Record API: the recording's
callback) marks it with `own_callback_url` and is never asynchronous.

It runs on gevent's WSGI server: every request is a greenlet on the daemon's hub, so room
inputs run there as every other room input does (rooms/registry.py). Every request is logged
once: method, path, status, account; never the Authorization header or a token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import attrs
import gevent
import gevent.pool
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map

from plivoxml_fs.api.http import WsgiService
from plivoxml_fs.effects.webhook import Webhook

log = logging.getLogger("plivoxml_fs.api")

#: The largest request body read, in bytes (the SDK's bodies are a few hundred).
MAX_BODY_BYTES = 64 * 1024
#: Asynchronous requests (callback_url) carried out at once at most; more are 429, not done:
#: each is a greenlet holding its request (and often a FreeSWITCH command) until it ends.
MAX_ASYNC_PENDING = 1000

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ApiError(Exception):
    """An answer other than success: `status` and Plivo's `error` text."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


def bad(parameter: str, why: str) -> ApiError:
    """400 naming the parameter."""
    return ApiError(400, f"{parameter}: {why}")


@attrs.define
class ApiRequest:
    """One authenticated, routed request."""

    method: str
    path: str
    account: str
    values: dict[str, str]  # the path's parts (auth_id, name, member_id ...)
    params: dict[str, Any]  # query (GET) or JSON body
    api_id: str
    acted: bool = False  # set once the request changed something

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        """Parameter `name` as text (400 when required and absent, or not text)."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            if required:
                raise bad(name, "is required")
            return default
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise bad(name, f"must be text (got {type(raw).__name__})")
        return str(raw)

    def callback(self, url_name: str, method_name: str, *,
                 default_method: str = "POST") -> tuple[str | None, str]:
        """An optional http(s) URL and its method (GET or POST, any case), 400 naming the
        parameter that is neither."""
        url = self.text(url_name) or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise bad(url_name, "must be an http(s) URL")
        method = self.text(method_name, default=default_method).upper()
        if method not in ("GET", "POST"):
            raise bad(method_name, f"must be GET or POST (got {method!r})")
        return url, method


Handler = Callable[[Any, ApiRequest], tuple[int, Mapping[str, Any] | None]]

_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
                400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error",
                503: "Service Unavailable"}


class ControlApp:
    """The WSGI application; `context` is handed to every handler (api/conference.py)."""

    def __init__(self, routes: Map, accounts: Mapping[str, str], context: Any, *,
                 emit: Callable[[Webhook], None] | None = None) -> None:
        self._routes = routes
        self._accounts = dict(accounts)
        self._context = context
        #: where asynchronous answers go (the outbox's emit; default: the context's)
        self._emit = emit if emit is not None else getattr(context, "emit", None)
        #: asynchronous requests still being carried out (ControlServer.stop waits for them)
        self.pending = gevent.pool.Group()
        self.max_async_pending = MAX_ASYNC_PENDING

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        api_id = str(uuid.uuid4())
        account = self._account(environ)
        status, body, headers = self._answer(environ, method, path, account, api_id)
        log.info("%s %s %d", method, path, status,
                 extra={"account": account or "-", "api_id": api_id})
        payload = b"" if body is None else json.dumps({"api_id": api_id, **body}).encode()
        head = [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                *headers]
        start_response(f"{status} {_STATUS_TEXT.get(status, 'Status')}", head)
        return [payload]

    def _account(self, environ: dict[str, Any]) -> str | None:
        """The account the Basic credentials are right for, else None."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            auth_id, sep, token = base64.b64decode(encoded.strip(), validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        expected = self._accounts.get(auth_id)
        if not sep or expected is None:
            return None
        return auth_id if hmac.compare_digest(token.encode(), expected.encode()) else None

    def _answer(self, environ: dict[str, Any], method: str, path: str, account: str | None,
                api_id: str) -> tuple[int, Mapping[str, Any] | None, list[tuple[str, str]]]:
        if account is None:
            return 401, {"error": "authentication failed: give an auth id and auth token of "
                                  "this daemon's accounts (HTTP Basic)"}, \
                [("WWW-Authenticate", 'Basic realm="plivoxml-fs"')]
        adapter = self._routes.bind_to_environ(environ)
        try:
            handler, values = adapter.match()
        except MethodNotAllowed as exc:
            allowed = sorted(exc.valid_methods or ())
            return 405, {"error": f"{method} is not allowed on {path} (allowed: "
                                  f"{', '.join(allowed)})"}, [("Allow", ", ".join(allowed))]
        except NotFound:
            return 404, {"error": f"no such resource: {path}"}, []
        if values.get("auth_id") != account:
            return 401, {"error": "the auth id in the path is not the one authenticated"}, []
        try:
            params = self._params(environ, method)
        except ApiError as exc:
            return exc.status, {"error": exc.error}, []
        request = ApiRequest(method, path, account, values, params, api_id)
        if "callback_url" in params and not getattr(handler, "own_callback_url", False):
            try:
                later = self._later(request)
            except ApiError as exc:
                return exc.status, {"error": exc.error}, []
            if later is not None:
                if len(self.pending) >= self.max_async_pending:
                    return 429, {"error": f"{len(self.pending)} asynchronous requests are being "
                                          f"carried out, the most this daemon takes at once: "
                                          f"nothing was done; try again later"}, []
                self.pending.spawn(self._carry_out, handler, request, later)
                return 202, {"message": "async api spawned"}, []
        status, body = self._run(handler, request)
        return status, body, []

    def _run(self, handler: Handler, request: ApiRequest) -> tuple[int, Mapping[str, Any] | None]:
        try:
            return handler(self._context, request)
        except ApiError as exc:
            return exc.status, {"error": exc.error}
        except Exception:
            log.exception("control API: %s %s failed", request.method, request.path,
                          extra={"account": request.account, "api_id": request.api_id})
            if request.acted:
                return 202, {"message": "request carried out; its answer could not be built"}
            return 500, {"error": "internal error: nothing was changed"}

    def _later(self, request: ApiRequest) -> tuple[str, str] | None:
        """An asynchronous request's callback URL and method (400 naming a bad one); None
        when `callback_url` is empty. The two leave the request's parameters: they are the
        answer's way back, not the handler's."""
        url, method = request.callback("callback_url", "callback_method")
        request.params = {k: v for k, v in request.params.items()
                          if k not in ("callback_url", "callback_method")}
        if url is None:
            return None
        if self._emit is None:
            raise bad("callback_url", "asynchronous answers need the daemon's outbox")
        return url, method

    def _carry_out(self, handler: Handler, request: ApiRequest, later: tuple[str, str]) -> None:
        """Runs an asynchronous request and posts its answer (see the module)."""
        status, body = self._run(handler, request)
        params = {"api_id": request.api_id, "status_code": str(status)}
        for name, value in (body or {}).items():
            params[name] = _param_text(value)
        url, method = later
        log.info("%s %s %d (asynchronous, answer to its callback_url)", request.method,
                 request.path, status,
                 extra={"account": request.account, "api_id": request.api_id})
        try:
            self._emit(Webhook(url, method, params, "", API_ANSWER_KIND,
                               order_key=f"api-{request.api_id}"))
        except Exception:  # the outbox keeps what it can; never lose the reason
            log.exception("control API: the answer of %s %s could not be queued for %s",
                          request.method, request.path, url,
                          extra={"account": request.account, "api_id": request.api_id})

    @staticmethod
    def _params(environ: dict[str, Any], method: str) -> dict[str, Any]:
        if method in ("GET", "HEAD"):
            return dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ApiError(400, "Content-Length: not a number") from None
        if length > MAX_BODY_BYTES:
            raise ApiError(413, f"body: larger than {MAX_BODY_BYTES} bytes")
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "body: not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "body: must be a JSON object")
        return body


#: The outbox kind of an asynchronous request's answer.
API_ANSWER_KIND = "api_answer"


def _param_text(value: Any) -> str:
    """One answer field as a callback parameter: text as it is, booleans `true`/`false`,
    None empty, numbers as written, lists and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


class ControlServer(WsgiService):
    """The control API on `address`; port 0 binds an ephemeral port (see `address`)."""

    def __init__(self, address: tuple[str, int], app: ControlApp) -> None:
        super().__init__(address, app, log, "control API on http://%s:%d/v1/Account/")
        self._app = app

    #: How long `stop` lets asynchronous requests already answered finish (their answers go
    #: to the outbox, which the daemon stops after this server).
    ASYNC_DRAIN_S = 5.0

    def stop(self) -> None:
        super().stop()
        if not self._app.pending.join(timeout=self.ASYNC_DRAIN_S):
            log.error("control API: %d asynchronous request(s) still running at stop: their "
                      "answers are not posted", len(self._app.pending))
