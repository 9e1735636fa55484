// Inside the embeddable page (/rdv/<slug>/integration/): tell the page that shows it in an
// iframe how tall it is, so that its embed.js resizes the iframe (no scroll bar). The height
// is no secret: posted to any parent.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ permanenceEmbedHeight: height }, "*");
  }
  window.addEventListener("load", post);
  window.addEventListener("resize", post);
  if ("ResizeObserver" in window) new ResizeObserver(post).observe(document.body);
  post();
})();
