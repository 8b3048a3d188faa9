// Starts Swagger UI on /api/docs over the OpenAPI document the page names (data-openapi), with
// FastAPI's default settings: from this file, since the Content-Security-Policy runs no inline
// script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi, dom_id: "#swagger-ui", layout: "BaseLayout",
    deepLinking: true, showExtensions: true, showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
