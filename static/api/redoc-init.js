"use strict";
// Starts ReDoc on /api/v1/redoc/ from the schema URL the page carries: the portal's CSP allows
// scripts from its own origin only, never inline. ReDoc gives the page's style nonce to the
// <style> elements it creates; this page's CSP names that nonce in style-src.
(function () {
  // ReDoc's menu shows a logo from its vendor's CDN; the CSP's img-src refuses it, so it is
  // never requested: an off-origin src on an <img> is dropped before the browser sees it.
  const offOrigin = (value) => new URL(value, location.href).origin !== location.origin;
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && name === "src" && offOrigin(value)) return;
    return setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      if (!offOrigin(value)) src.set.call(this, value);
    },
  });
  const root = document.getElementById("redoc-container");
  const settings = JSON.parse(document.getElementById("redoc-settings").textContent || "{}");
  Redoc.init(root.dataset.schemaUrl, {...settings, nonce: root.dataset.styleNonce}, root);
})();
