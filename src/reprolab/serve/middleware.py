"""What wraps every request of the HTTP service: its count and latency under its
route, whatever answered it (the handler, a refusal before routing, an error), and a
last resort that turns an error no check foresaw into a JSON 500 and one log line."""

import logging
import time
from typing import Any

from fastapi.responses import JSONResponse
from starlette.routing import Match

log = logging.getLogger("reprolab.serve")

# The status recorded for a request whose client left before any response: not an
# error of ours, and not a 400 nobody sent (nginx's convention).
CLIENT_CLOSED = "499"


def endpoint_of(routes: list[Any], scope: dict) -> str:
    """The route a request is for, by its path and method, even when it was refused
    before routing (a 413 is counted under /predict, not as `unmatched`)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", "unmatched")
        if match == Match.PARTIAL and partial is None:
            partial = getattr(route, "path", None)  # the path, another method
    return partial or "unmatched"


class Measure:
    """Count and time every request under (endpoint, status), 5xx and refusals
    included; a request whose client left is counted under status 499."""

    def __init__(self, app: Any, routes: list[Any], metrics: dict[str, Any]) -> None:
        self.app, self.routes, self.metrics = app, routes, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), CLIENT_CLOSED

        async def sending(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            labels = {"endpoint": endpoint_of(self.routes, scope), "status": status}
            self.metrics["requests"].labels(**labels).inc()
            self.metrics["latency"].labels(**labels).observe(time.perf_counter() - started)


class LastResort:
    """An exception no handler turned into a response becomes a JSON 500 (when nothing
    was sent yet) and one log line naming it: never a traceback, never a dropped
    connection."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # the last resort: whatever it is, answered and logged
            text = _printable(" ".join(str(error).split())[:300])
            path = _printable(str(scope.get("path")))
            log.error("%s %s: unexpected %s: %s", scope.get("method"), path,
                      type(error).__name__, text)  # fmt: skip
            if not started:
                response = JSONResponse(
                    {"detail": "internal error; the service logged it"}, status_code=500
                )
                await response(scope, receive, send)


def _printable(text: str) -> str:
    """Text a log can print (a lone surrogate escaped, not a logging error)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
