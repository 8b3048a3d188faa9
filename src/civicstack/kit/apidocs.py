"""/api/docs: Swagger UI over the API's OpenAPI document, from files the app serves itself (no
CDN: offline, or behind a proxy that blocks one, the page still works), started by a script
file rather than FastAPI's inline one, so that the page runs under the site's
Content-Security-Policy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from civicstack.kit.web import render

ASSETS = "/api/docs/assets"
# Swagger UI 5 (Apache-2.0), as the fastapi-swagger package (MIT) ships it: the bundle and its
# stylesheet, nothing fetched at run time. Swagger UI 4 (swagger-ui-bundle) cannot read the
# OpenAPI 3.1 document FastAPI writes.
SWAGGER_UI_PACKAGE = ("fastapi_swagger", "resources")

router = APIRouter(include_in_schema=False)


def swagger_ui_files() -> StaticFiles:
    """Swagger UI's own files, to mount at ASSETS."""
    return StaticFiles(packages=[SWAGGER_UI_PACKAGE])


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {
        "openapi_url": request.app.openapi_url, "title": f"{request.app.title} API",
        "swagger_js": f"{ASSETS}/swagger-ui-bundle.js",
        "swagger_css": f"{ASSETS}/swagger-ui.css"})
