"use strict";
// Starts Swagger UI on /api/v1/docs/ from the data the page carries (schema URL, CSRF header
// and token): the portal's CSP allows scripts from its own origin only, never inline.
(function () {
  const root = document.getElementById("swagger-ui");
  const settings = JSON.parse(document.getElementById("swagger-settings").textContent || "{}");
  const csrfHeader = root.dataset.csrfHeader;
  const csrfToken = root.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // "Try it out" with the browser session: unsafe methods carry the CSRF token.
    requestInterceptor: (request) => {
      if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
        request.headers[csrfHeader] = csrfToken;
      }
      return request;
    },
    ...settings,
  });
})();
