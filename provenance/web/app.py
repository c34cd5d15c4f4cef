"""The resolver: a read-only ASGI app (Starlette + Jinja2) answering GS1 Digital Links.

Routes:

- ``/01/{gtin}/10/{lot}`` (GTIN-8/12/13/14, lot percent-encoded; or ``/01/{gtin}?10={lot}``):
  the verification page; ``Accept: application/json`` or ``?format=json`` → the report as JSON
  (`public.public_json`); ``?linkType=linkset`` or ``Accept: application/linkset+json`` → the
  batch's linkset (RFC 9264); ``?linkType=gs1:…`` → the page for that link type.
- ``/.well-known/gs1resolver``: what this resolver serves; ``/``: a look-up form (``/lookup``);
  ``/static/provenance.css``: the only static file (served from memory).
- ``/epcis/events`` and ``/epcis/events/{eventID}`` (eventID percent-encoded): the read side of
  the EPCIS 2.0 REST binding over the chain's events (`provenance.epcis.query` does the query,
  the source rebuilds the events from the chain, the cache keeps them per head): an
  ``application/ld+json`` EPCISQueryDocument, paged by ``perPage`` and ``nextPageToken`` with a
  ``Link: <…>; rel="next"`` header, or one event; errors as RFC 7807 problem details
  (``application/problem+json``, EPCIS exception types).

Every route is read-only: OPTIONS answers the allowed methods, anything but GET/HEAD/OPTIONS is
405. Bad input gets its status (400, 404, 406, 414) and a one-line reason, as HTML or JSON like
the page would have been; an unreachable chain is 503 with a message, and the next request
tries the chain again. No script, font or stylesheet from elsewhere; the Content-Security-Policy
forbids them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from provenance.epcis.export import EventsAt
from provenance.epcis.mapping import EXPORT_CONTEXT
from provenance.epcis.query import Query, QueryError, query_document
from provenance.exceptions import InvalidInput
from provenance.gs1 import Gtin, Lot
from provenance.web import links
from provenance.web.cache import ReportCache
from provenance.web.public import TIMELINE_FIRST, page_view, public_json, when
from provenance.web.source import Head, Source, SourceUnavailable

HERE = Path(__file__).resolve().parent
LOG = logging.getLogger("provenance.web")

HTML, JSON, LINKSET, LD_JSON, PROBLEM = "html", "json", "linkset", "ld+json", "problem"
CONTENT_TYPES = {
    HTML: "text/html; charset=utf-8",
    JSON: "application/json",
    LINKSET: "application/linkset+json",
    LD_JSON: "application/ld+json",
    PROBLEM: "application/problem+json",
}
MEDIA_TYPES = {
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "application/json": JSON,
    "application/linkset+json": LINKSET,
}
GS1 = "https://gs1.org/voc/"
#: Link types this resolver answers, → what it serves for them.
LINK_TYPES = {
    "gs1:defaultLink": HTML,
    "gs1:verificationService": HTML,
    "gs1:recallStatus": HTML,
    "linkset": LINKSET,
    "all": LINKSET,
}
ALLOW = "GET, HEAD, OPTIONS"
MAX_ACCEPT = 1024
#: Answers longer than this are sent gzip-compressed to clients that accept it (compressed once
#: per head, with the rendering).
GZIP_ABOVE = 1400
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
EPCIS_ROOT = "/epcis/"
EPCIS_EVENTS = "/epcis/events"
#: Sent with every EPCIS answer (EPCIS 2.0 REST binding).
EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
#: EPCIS 2.0 exception type of a refused EPCIS request, by status (RFC 7807 `type`).
EPCIS_EXCEPTIONS = {
    400: "epcisException:QueryParameterException",
    404: "epcisException:NoSuchResourceException",
    406: "epcisException:NotAcceptableException",
    500: "epcisException:ImplementationException",
    502: "epcisException:ImplementationException",
    503: "epcisException:ImplementationException",
}
EPCIS_TITLES = {
    400: "Invalid query parameter",
    404: "No such event",
    406: "Not acceptable",
}
#: Media ranges under which an EPCIS client accepts our JSON-LD.
EPCIS_ACCEPTS = ("application/ld+json", "application/json", "application/*", "*/*")
STATUS_TITLES = {
    400: "Not a valid link",
    404: "Not found",
    405: "Not allowed",
    406: "Not acceptable",
    414: "Link too long",
    500: "Something went wrong",
    502: "The chain answered with an error",
    503: "The chain cannot be reached",
}

Endpoint = Callable[[Request], Awaitable[Response]]


class Problem(Exception):
    """A refused request: status, one-line reason, optional hint and headers (`parameter`: the
    query parameter at fault, for EPCIS problem details)."""

    def __init__(
        self,
        status: int,
        reason: str,
        hint: str = "",
        headers: Mapping[str, str] | None = None,
        parameter: str = "",
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = " ".join(reason.split())[:300]
        self.hint = hint
        self.headers = dict(headers or {})
        self.parameter = parameter


def _accept(header: str | None) -> dict[str, float]:
    """Our kinds → their quality in an Accept header (absent header: anything goes)."""
    if not header:
        return {HTML: 1.0, JSON: 0.9, LINKSET: 0.8}
    if len(header) > MAX_ACCEPT:
        raise Problem(400, f"Accept header longer than {MAX_ACCEPT} characters")
    quality: dict[str, float] = {}
    ranges = []
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    for media_type, kind in MEDIA_TYPES.items():
        major = media_type.split("/")[0]
        best = None
        for media, q in ranges:  # the most specific range that matches decides
            if media == media_type:
                rank = 3
            elif media_type == "application/xhtml+xml":
                rank = 0  # only when asked for by name: */* and application/* mean text/html
            elif media == f"{major}/*":
                rank = 2
            else:
                rank = 1 if media == "*/*" else 0
            if rank and (best is None or rank > best[0]):
                best = (rank, q)
        if best is not None:
            quality[kind] = max(quality.get(kind, 0.0), best[1])
    return quality


def negotiate(request: Request, params: list[tuple[str, str]]) -> str:
    """HTML, JSON or LINKSET, from ?format, ?linkType and the Accept header."""
    query = dict(params)
    accept = _accept(request.headers.get("accept"))
    if "format" in query:
        kind = {"json": JSON, "html": HTML, "linkset": LINKSET}.get(query["format"].lower())
        if kind is None:
            raise Problem(
                400, f"unknown format {query['format'][:20]!r}: use html, json or linkset"
            )
        return kind
    if "linkType" in query:
        link_type = query["linkType"]
        short = "gs1:" + link_type.removeprefix(GS1) if link_type.startswith(GS1) else link_type
        kind = LINK_TYPES.get(short)
        if kind is None:
            raise Problem(
                404,
                f"no link of type {link_type[:60]!r} for this batch; available: "
                + ", ".join(LINK_TYPES),
            )
        if kind == HTML and accept.get(JSON, 0) > accept.get(HTML, 0):
            return JSON
        return kind
    best = max(
        (HTML, JSON, LINKSET), key=lambda k: (accept.get(k, 0.0), -[HTML, JSON, LINKSET].index(k))
    )
    if accept.get(best, 0.0) <= 0:
        raise Problem(406, "this resolver answers text/html, application/json or "
                      "application/linkset+json only")  # fmt: skip
    return best


def _wants_json(request: Request) -> bool:
    """For error responses: JSON if asked for by ?format or Accept (never raises)."""
    try:
        query = links.query_params(request.scope.get("query_string", b""))
        fmt = dict(query).get("format", "").lower()
        if fmt:
            return fmt in ("json", "linkset")
    except links.LinkError:
        pass  # a query we cannot read: the Accept header decides
    try:
        accept = _accept(request.headers.get("accept"))
    except Problem:
        return False
    return max(accept.get(JSON, 0), accept.get(LINKSET, 0)) > accept.get(HTML, 0)


class Resolver:
    """The app's state: where reports come from, templates, the stylesheet, the base URL."""

    def __init__(self, source: Source, cache: ReportCache, base_url: str | None) -> None:
        self.source = source
        self.cache = cache
        self.base_url = (base_url or "").rstrip("/")
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.css = (HERE / "static" / "provenance.css").read_bytes()
        self.css_version = hashlib.sha256(self.css).hexdigest()[:12]

    # ------------------------------------------------------------------ rendering helpers

    def html(self, template: str, status: int = 200, **context: Any) -> bytes:
        head: Head | None = context.pop("head", None) or self.cache.last_head
        return (
            self.templates.get_template(template)
            .render(
                css_version=self.css_version,
                registry=self.source.registry,
                chain_id=self.source.chain_id,
                head=head,
                head_when=when(head.timestamp) if head else "",
                **context,
            )
            .encode()
        )

    def respond(
        self, body: bytes, kind: str, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return Response(
            body,
            status_code=status,
            media_type=CONTENT_TYPES[kind],
            headers={
                **SECURITY_HEADERS,
                "Vary": "Accept, Accept-Encoding",
                "Cache-Control": "no-cache",
                **(headers or {}),
            },
        )

    def problem(self, request: Request, problem: Problem) -> Response:
        if request.url.path.startswith(EPCIS_ROOT):
            return self.epcis_problem(problem)
        if _wants_json(request):
            body = json.dumps({"status": problem.status, "error": problem.reason}).encode()
            return self.respond(body, JSON, problem.status, problem.headers)
        title = STATUS_TITLES.get(problem.status, "Error")
        body = self.html(
            "error.html", title=title, heading=title, reason=problem.reason, hint=problem.hint
        )
        return self.respond(body, HTML, problem.status, problem.headers)

    def epcis_problem(self, problem: Problem) -> Response:
        """RFC 7807 problem details with the EPCIS exception type of the status."""
        body: dict[str, Any] = {
            "type": EPCIS_EXCEPTIONS.get(problem.status, "about:blank"),
            "title": EPCIS_TITLES.get(problem.status) or STATUS_TITLES.get(problem.status, "Error"),
            "status": problem.status,
            "detail": problem.reason,
        }
        if problem.parameter:
            body["parameter"] = problem.parameter
        return self.respond(
            json.dumps(body).encode(),
            PROBLEM,
            problem.status,
            {**EPCIS_HEADERS, **problem.headers},
        )

    # ------------------------------------------------------------------ routes

    async def home(self, request: Request) -> Response:
        return self.respond(self.html("home.html", title="Check a product"), HTML)

    async def lookup(self, request: Request) -> Response:
        params = dict(links.query_params(request.scope.get("query_string", b"")))
        try:
            gtin = Gtin(params.get("gtin", "").strip())
            lot = Lot(params.get("lot", "").strip())
        except InvalidInput as exc:
            raise Problem(400, str(exc), "Type the GTIN and the lot exactly as printed.") from None
        return RedirectResponse(links.BatchLink(gtin, lot).path, status_code=303)

    async def static(self, request: Request) -> Response:
        if request.path_params.get("name") != "provenance.css":
            raise Problem(404, "no such file")
        return Response(
            self.css,
            media_type="text/css; charset=utf-8",
            headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"},
        )

    async def well_known(self, request: Request) -> Response:
        root = self.base_url
        body = {
            "name": "Provenance check: a GS1 Digital Link resolver for the provenance registry",
            "resolverRoot": root,
            "supportedPrimaryKeys": ["01"],
            "keyQualifiers": {"01": ["10"]},
            "supportedLinkType": [
                {"namespace": GS1, "prefix": "gs1:", "profile": f"{GS1}?show=linktypes"}
            ],
            "linkTypes": [f"{GS1}{t.removeprefix('gs1:')}" for t in LINK_TYPES if "gs1:" in t],
            "linkTypeDefaultCanBeLinkset": False,
            "contentTypes": list(CONTENT_TYPES.values()),
            "readOnly": True,
            "chainId": self.source.chain_id,
            "registry": self.source.registry,
            "example": f"{root}/01/09521234000013/10/JAM-2026-01-A",
        }
        return self.respond(json.dumps(body, indent=2).encode(), JSON)

    async def resolve(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            parts = links.segments(raw_path)
            if not links.is_digital_link(parts):
                raise Problem(404, "no page here: a product's link starts with /01/<GTIN>/10/<lot>")
            params = links.query_params(request.scope.get("query_string", b""))
            link = links.parse(parts, params)
        except links.LinkError as exc:
            raise Problem(exc.status, exc.reason, _hint(exc.status)) from None
        kind = negotiate(request, params)
        if link.redirect:
            keep = [(k, v) for k, v in params if k in ("format", "linkType")]
            query = "&".join(f"{k}={v}" for k, v in keep)
            return RedirectResponse(link.path + (f"?{query}" if query else ""), status_code=307)
        try:
            entry, head = await self.cache.get(link.batch_id)
        except SourceUnavailable as exc:
            LOG.warning("chain unavailable (%s): %s", getattr(self.source, "rpc", "?"), exc)
            if exc.unreachable:
                raise Problem(
                    503,
                    "the blockchain node behind this resolver does not answer, so this lot "
                    "cannot be checked right now",
                    "Try again in a minute.",
                    {"Retry-After": "30"},
                ) from None
            raise Problem(502, "the blockchain node behind this resolver answered with an error",
                          "Try again in a minute.", {"Retry-After": "30"}) from None  # fmt: skip
        report = entry.verified.report
        canonical = f"{self.base_url}{link.path}"
        if report is None:
            raise Problem(
                404,
                f"no batch with lot {link.lot} of GTIN {link.gtin} is recorded in this registry",
                "Check the GTIN and lot printed under the code. A label that leads here may not "
                "be genuine.",
            )
        link_header = {
            "Link": f'<{canonical}?linkType=linkset>; rel="linkset"; '
            'type="application/linkset+json"'
        }
        if kind == LINKSET:
            make: Callable[[], bytes] = lambda: self._linkset(link, canonical)  # noqa: E731
        elif kind == JSON:
            make = lambda: self._json(report, link, canonical, head)  # noqa: E731
        else:
            make = lambda: self._page(report, entry.verified.names, link, canonical, head)  # noqa: E731
        body = entry.render(kind, head, make)
        if len(body) > GZIP_ABOVE and _accepts_gzip(request.headers.get("accept-encoding", "")):
            body = entry.render(f"{kind}+gzip", head, lambda: gzip.compress(body, 6))
            link_header["Content-Encoding"] = "gzip"
        return self.respond(body, kind, headers=link_header)

    async def epcis_events(self, request: Request) -> Response:
        """`GET /epcis/events`: an EPCISQueryDocument of the events that match, one page."""
        _epcis_accept(request)
        pairs = links.query_params(request.scope.get("query_string", b""))
        params: dict[str, list[str]] = {}
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        try:
            query = Query.parse(params)  # refused before the chain is asked
        except QueryError as exc:
            raise Problem(400, str(exc), parameter=exc.parameter) from None
        events = await self._events()
        document, token = query_document(events.events, query, context=EXPORT_CONTEXT)
        headers = dict(EPCIS_HEADERS)
        if token is not None:
            keep = [(k, v) for k, v in pairs if k != "nextPageToken"]
            following = urlencode([*keep, ("nextPageToken", token)])
            headers["Link"] = f'<{self.base_url}{EPCIS_EVENTS}?{following}>; rel="next"'
        return self.respond(json.dumps(document).encode(), LD_JSON, headers=headers)

    async def epcis_event(self, request: Request) -> Response:
        """`GET /epcis/events/{eventID}`: one event, its eventID percent-encoded in the path."""
        _epcis_accept(request)
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        raw_id = raw_path.split(b"?", 1)[0][len(EPCIS_EVENTS) + 1 :]
        if len(raw_id) > links.MAX_PATH_BYTES:
            raise Problem(414, f"eventID longer than {links.MAX_PATH_BYTES} bytes")
        event_id = links.decode_segment(raw_id, "eventID")
        events = await self._events()
        event = events.find(event_id)
        if event is None:
            raise Problem(
                404,
                f"no event {event_id[:100]!r} among the {len(events.events)} EPCIS events of "
                f"this registry up to block {events.block}: percent-encode the whole eventID "
                "(ni:///sha-256;…?ver=CBV2.0) in the path",
            )
        body = {"@context": EXPORT_CONTEXT, **event}
        return self.respond(json.dumps(body).encode(), LD_JSON, headers=EPCIS_HEADERS)

    async def _events(self) -> EventsAt:
        try:
            return await self.cache.epcis_events()
        except SourceUnavailable as exc:
            LOG.warning("chain unavailable (%s): %s", getattr(self.source, "rpc", "?"), exc)
            raise Problem(
                503 if exc.unreachable else 502,
                "the blockchain node behind this server "
                + ("does not answer" if exc.unreachable else "answered with an error")
                + ", so its events cannot be read right now",
                headers={"Retry-After": "30"},
            ) from None

    def _page(self, report: Any, names: Mapping[str, str], link: links.BatchLink,
              canonical: str, head: Head) -> bytes:  # fmt: skip
        view = page_view(report, names, self.source.chain_id)
        title = f"{view.verdict}: lot {link.lot}"
        return self.html("batch.html", title=title, v=view, path=link.path, link=canonical,
                         first_shown=TIMELINE_FIRST,
                         head=head)  # fmt: skip

    def _json(self, report: Any, link: links.BatchLink, canonical: str, head: Head) -> bytes:
        meta = {
            "link": canonical,
            "gtin": link.gtin,
            "lot": link.lot,
            "chain_id": self.source.chain_id,
            "registry": self.source.registry,
            "as_of_block": head.block,
            "as_of_time": head.timestamp,
            "note": "the record of this lot, not proof that one item is genuine; prices, "
            "amounts and penalties are not public",
        }
        return json.dumps(public_json(report, meta), indent=2, sort_keys=True).encode()

    def _linkset(self, link: links.BatchLink, canonical: str) -> bytes:
        page = {"href": canonical, "title": f"Verification of lot {link.lot}",
                "type": "text/html", "hreflang": ["en"]}  # fmt: skip
        report = {"href": f"{canonical}?format=json", "title": "Verification report (JSON)",
                  "type": "application/json"}  # fmt: skip
        recalls = {"href": f"{canonical}#recalls", "title": "Recalls in the family",
                   "type": "text/html", "hreflang": ["en"]}  # fmt: skip
        body = {
            "linkset": [
                {
                    "anchor": canonical,
                    f"{GS1}defaultLink": [page],
                    f"{GS1}verificationService": [page, report],
                    f"{GS1}recallStatus": [recalls],
                }
            ]
        }
        return json.dumps(body, indent=2).encode()


def _epcis_accept(request: Request) -> None:
    """406 unless the client takes JSON-LD (or JSON) and EPCIS 2.0."""
    accept = request.headers.get("accept")
    if accept:
        if len(accept) > MAX_ACCEPT:
            raise Problem(400, f"Accept header longer than {MAX_ACCEPT} characters")
        for item in accept.split(","):
            media, *params = (part.strip().lower() for part in item.split(";"))
            zero = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
            if media in EPCIS_ACCEPTS and not zero:
                break
        else:
            raise Problem(406, "this server answers EPCIS queries as application/ld+json only")
    version = request.headers.get("gs1-epcis-version")
    if version and version.strip() != EPCIS_HEADERS["GS1-EPCIS-Version"]:
        raise Problem(406, f"GS1-EPCIS-Version {version[:20]!r}: this server speaks EPCIS 2.0.0")


def _accepts_gzip(header: str) -> bool:
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _hint(status: int) -> str:
    if status == 400:
        return "A product's link looks like /01/09521234000013/10/JAM-2026-01-A."
    return ""


def create_app(
    source: Source,
    *,
    base_url: str | None = None,
    head_ttl: float = 0.5,
    retry_after: float = 1.0,
    workers: int = 4,
    max_entries: int = 1024,
) -> Starlette:
    """The resolver app over `source`. `base_url` (scheme://host[:port]) prefixes the absolute
    links of the JSON and linkset answers (never taken from the request's Host header: cached
    answers must not depend on what a client claims)."""
    cache = ReportCache(
        source, head_ttl=head_ttl, retry_after=retry_after, workers=workers,
        max_entries=max_entries,
    )  # fmt: skip
    resolver = Resolver(source, cache, base_url)

    def read_only(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            method = request.method
            try:
                if method == "OPTIONS":
                    return Response(status_code=204, headers={**SECURITY_HEADERS, "Allow": ALLOW})
                if method not in ("GET", "HEAD"):
                    raise Problem(
                        405,
                        f"method {method[:16]} is not allowed: this resolver is read-only "
                        f"({ALLOW})",
                        headers={"Allow": ALLOW},
                    )
                return await handler(request)
            except Problem as problem:
                return resolver.problem(request, problem)
            except links.LinkError as exc:
                return resolver.problem(request, Problem(exc.status, exc.reason))

        return endpoint

    async def server_error(request: Request, exc: Exception) -> Response:
        LOG.error("internal error on %s", request.url.path[:200], exc_info=exc)
        return resolver.problem(
            request, Problem(500, "internal error: the server's log has the details")
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        headers = getattr(exc, "headers", None) or {}
        detail = str(getattr(exc, "detail", "error"))
        return resolver.problem(request, Problem(status, detail, headers=headers))

    def route(path: str, handler: Endpoint) -> Route:
        # An ASGI object, not a function: Starlette then passes every method to it (a function
        # endpoint would get GET/HEAD only and Starlette's own 405 for the rest).
        return Route(path, _EveryMethod(read_only(handler)), methods=None)

    routes = [
        route(EPCIS_EVENTS, resolver.epcis_events),
        route(EPCIS_EVENTS + "/{event_id:path}", resolver.epcis_event),
        route("/", resolver.home),
        route("/lookup", resolver.lookup),
        route("/.well-known/gs1resolver", resolver.well_known),
        route("/static/{name}", resolver.static),
        route("/{path:path}", resolver.resolve),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={Exception: server_error, HTTPException: http_error},
    )
    app.state.resolver = resolver
    app.state.cache = cache
    return app


class _EveryMethod:
    """An endpoint as a plain ASGI app (see `create_app`)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def set_base_url(app: Starlette, base_url: str) -> None:
    """Set the base URL once the server's address is known (port 0 → the bound port)."""
    app.state.resolver.base_url = base_url.rstrip("/")


__all__ = ["create_app", "negotiate", "set_base_url"]
