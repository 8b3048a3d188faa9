"""/api/docs: Swagger UI over the API's OpenAPI document, started by a script file rather than
FastAPI's inline one, so that the page runs under the site's Content-Security-Policy."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from civicstack.kit.web import render

# Swagger UI's own files, at the addresses FastAPI uses; each tag carries the page's nonce.
SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"

router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {
        "openapi_url": request.app.openapi_url, "title": f"{request.app.title} API",
        "swagger_js": SWAGGER_JS, "swagger_css": SWAGGER_CSS})
