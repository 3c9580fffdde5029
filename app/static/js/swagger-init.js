/* Initialise Swagger UI for the API docs page (external file: CSP forbids inline scripts). */
(function () {
  "use strict";
  function init() {
    var el = document.getElementById("swagger-ui");
    if (!el || typeof window.SwaggerUIBundle !== "function") return;
    window.ui = window.SwaggerUIBundle({
      url: el.getAttribute("data-openapi-url") || "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
      layout: "BaseLayout"
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
