"""A request body larger than the server takes (issue 20, finding 6) is refused with 413 before
it is read: at once where its length is declared, as soon as it passes the limit where it is
streamed without one; as problem+json for programs and as a page for browsers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from civicstack.config import Settings
from tests.support.web import Site

MB = 1024 * 1024
CHUNK = 64 * 1024


class SixtyMegabytes:
    """A form with one 60 MB file, sent in 64 KiB chunks, counting how much the server took."""

    HEAD = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n")

    def __init__(self) -> None:
        self.size, self.taken = 60 * MB, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.taken += len(self.HEAD)
        yield self.HEAD
        while self.taken < self.size:
            self.taken += CHUNK
            yield b"\xff" * CHUNK


def post(site: Site, path: str, body: SixtyMegabytes, headers: dict[str, str]) -> httpx.Response:
    async def sending() -> httpx.Response:
        transport = httpx.ASGITransport(app=site.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post(path, content=body, headers=headers)
    return asyncio.run(sending())


FORM = {"Content-Type": "multipart/form-data; boundary=b"}
DECLARED = {**FORM, "Content-Length": str(60 * MB)}


def test_the_default_limit_is_above_the_largest_form_and_below_sixty_megabytes() -> None:
    assert 5 * 5 * MB < Settings().max_body_bytes < 60 * MB


def test_a_declared_sixty_megabyte_upload_is_refused_before_a_byte_is_read(site: Site) -> None:
    body = SixtyMegabytes()
    response = post(site, "/api/v1/biometrics/enrolments", body, DECLARED)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert body.taken == 0


def test_a_streamed_sixty_megabyte_upload_is_refused_once_past_the_limit(site: Site) -> None:
    body = SixtyMegabytes()
    response = post(site, "/api/v1/biometrics/enrolments", body, FORM)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert body.taken <= site.services.settings.max_body_bytes + CHUNK


@pytest.mark.parametrize("headers", [DECLARED, FORM], ids=["declared", "streamed"])
def test_a_browser_sending_too_much_gets_a_page_saying_so(site: Site,
                                                          headers: dict[str, str]) -> None:
    body = SixtyMegabytes()
    response = post(site, "/dossiers/01000001-ABCDEF", body,
                    {**headers, "Accept": "text/html"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Dữ liệu gửi lên quá lớn" in response.text
    assert body.taken <= site.services.settings.max_body_bytes + CHUNK
