"""Limits every request and error of the HTTP service stays within, whatever a client
sends: the body size (counted as it streams) and the size of a 422's body."""

from typing import Any

from fastapi.responses import JSONResponse

# A 422 names at most this many problems: the body of an error stays small however
# large (and however wrong) the request.
MAX_ERRORS = 20


class BodyLimit:
    """Refuse (413) a request body larger than `limit` bytes, counted as it arrives: a
    chunked body has no Content-Length to check. The body is replayed to the app."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                response = JSONResponse(
                    {
                        "detail": f"request body over {self.limit} bytes; expected at most "
                        f"{self.limit} (serve.max_body_bytes)"
                    },
                    status_code=413,
                )
                return await response(scope, receive, send)
            chunks.append(chunk)
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


def bounded_errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Where and what, for the first MAX_ERRORS problems; never the request's values."""
    shown = [
        {"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in errors[:MAX_ERRORS]
    ]
    return {"detail": shown, "errors": len(errors), "shown": len(shown)}
