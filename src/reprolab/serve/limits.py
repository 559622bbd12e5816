"""Limits every request and error of the HTTP service stays within, whatever a client
sends: the body's size (declared, and counted as it streams), how long it may stall,
how many requests run at once, its media type, and the size of a 422's body."""

import asyncio
from typing import Any

from fastapi.responses import JSONResponse

# A 422 names at most this many problems: the body of an error stays small however
# large (and however wrong) the request.
MAX_ERRORS = 20
# A field name or value echoed in an error is cut to this many characters.
MAX_ECHO = 64
# Requests with a body that are refused unless they say they are JSON.
JSON_TYPES = ("application/json",)


def refusal(status: int, detail: str) -> JSONResponse:
    """A refusal sent before the body was read to its end: the connection is closed after
    it. Kept open, the unread rest of the body would be parsed as the client's next
    request on that connection (a keep-alive client hung after a 408)."""
    return JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestLimits:
    """Before the app sees a request: refuse (413) a declared Content-Length over `limit`
    at once and a body that grows over it as it streams (a chunked body declares
    none); refuse (415) a body that is not JSON; give up (408) on a body that stalls
    for `timeout` seconds between chunks; refuse (503) a request beyond `concurrency`
    running at once. A client that disconnects gets no response (nothing to answer).
    The body is replayed to the app."""

    def __init__(self, app: Any, limit: int, timeout: float, concurrency: int) -> None:
        self.app, self.limit, self.timeout = app, limit, timeout
        self.running, self.concurrency = 0, concurrency

    def _too_large(self) -> JSONResponse:
        return refusal(
            413,
            f"request body over {self.limit} bytes; expected at most {self.limit} "
            "(serve.max_body_bytes)",
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.running >= self.concurrency:
            response = refusal(
                503, f"{self.running} requests running; expected at most {self.concurrency} "
                "(serve.max_concurrent_requests): retry shortly",
            )  # fmt: skip
            return await response(scope, receive, send)
        self.running += 1
        try:
            refused = self._refused_before_reading(scope)
            if refused is not None:
                return await refused(scope, receive, send)
            return await self._read_then_call(scope, receive, send)
        finally:
            self.running -= 1

    def _refused_before_reading(self, scope: dict) -> JSONResponse | None:
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.limit):
            return self._too_large() if declared.strip().isdigit() else refusal(
                400, "Content-Length: not a whole number of bytes"
            )  # fmt: skip
        media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        has_body = declared not in (None, "0") or _header(scope, b"transfer-encoding")
        if has_body and media and media not in JSON_TYPES and not media.endswith("+json"):
            return refusal(415, f"Content-Type {media[:MAX_ECHO]!r}; expected application/json")
        return None

    async def _read_then_call(self, scope: dict, receive: Any, send: Any) -> None:
        chunks, size, more = [], 0, True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                response = refusal(
                    408, f"request body stalled for {self.timeout:g} s; expected it to keep "
                    "coming (serve.body_timeout_seconds)",
                )  # fmt: skip
                return await response(scope, receive, send)
            if message["type"] == "http.disconnect":
                return None  # the client left: there is no one to answer
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self._too_large()(scope, receive, send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def shown(value: Any) -> Any:
    """A name or value as an error may echo it: cut to MAX_ECHO characters, and
    encodable as UTF-8 (a lone surrogate is shown escaped, not a 500)."""
    if not isinstance(value, str):
        return value
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 1] + "…"


def _field(loc: tuple) -> tuple:
    """A record field's location, without the union member pydantic appends
    (`constrained-int`, `float`): one problem per field."""
    if len(loc) > 4 and tuple(loc[:2]) == ("body", "records"):
        return tuple(loc[:4])
    return tuple(loc)


def _message(group: list[dict[str, Any]]) -> dict[str, Any]:
    """One problem for a field out of its union members' errors: a constraint that
    failed (a bound, finiteness) rather than the types it was not."""
    specific = [e for e in group if not str(e.get("type", "")).endswith("_type")]
    if specific:
        return specific[0]
    kinds = {str(e.get("type")) for e in group}
    if kinds <= {"int_type", "float_type", "none_required"}:
        return {**group[0], "msg": "Input should be a finite number", "type": "number_type"}
    return group[0]


def bounded_errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Where and what, one problem per field, for the first MAX_ERRORS fields; never the
    request's values, and names cut to MAX_ECHO characters."""
    fields: dict[tuple, list[dict[str, Any]]] = {}
    for error in errors:
        fields.setdefault(_field(tuple(error.get("loc", ()))), []).append(error)
    problems = []
    for loc, group in fields.items():
        chosen = _message(group)
        problems.append(
            {
                "loc": [shown(part) for part in loc],
                "msg": shown_message(chosen),
                "type": chosen.get("type"),
            }
        )
    return {
        "detail": problems[:MAX_ERRORS],
        "errors": len(problems),
        "shown": min(len(problems), MAX_ERRORS),
    }


def shown_message(error: dict[str, Any]) -> str:
    return str(error.get("msg", "")).encode("utf-8", "backslashreplace").decode("utf-8")[:300]
