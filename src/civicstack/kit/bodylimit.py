"""The largest request body the server reads: a larger one is refused with 413 before any of it
is read where its length is declared, and as soon as the bytes received pass the limit where
it arrives in chunks without a length. Without it a form's files are spooled whole, however
large, before a handler can look at their size."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicstack.kit.error_pages import respond
from civicstack.kit.errors import problem_of_http


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body is read, so the app's error pages answer it (kit/error_pages)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Installed inside the session middleware, so a browser's refusal is a page in the site's
    layout and the reader's language."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            request = Request(scope, receive)
            refusal = problem_of_http(BodyTooLarge(self.max_bytes), request.url.path)
            await respond(request, refusal)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


def _declared_length(scope: Scope) -> int | None:
    declared = Headers(scope=scope).get("content-length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None
