// Inside the embeddable page (/rdv/<slug>/integration/): tell the page that shows it in an
// iframe how tall it is, so that its embed.js resizes the iframe (no scroll bar). The height
// is no secret: posted to any parent. embed.js may load after this page: it then asks again
// ({permanenceEmbedPing: true}) and gets the height at once.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function post(force) {
    // The content, not the document or the body: both are at least as tall as the iframe.
    var main = document.querySelector("main") || document.body;
    var height = Math.ceil(main.getBoundingClientRect().bottom + window.scrollY + 8);
    if (height === last && force !== true) return;
    last = height;
    window.parent.postMessage({ permanenceEmbedHeight: height }, "*");
  }
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.permanenceEmbedPing) {
      post(true);
    }
  });
  window.addEventListener("load", post);
  window.addEventListener("resize", post);
  if ("ResizeObserver" in window) new ResizeObserver(post).observe(document.body);
  post();
})();
