// On the host site (a mairie's web page), loaded by the snippet that Permanence gives:
// resizes each <iframe data-permanence-embed> to the height its page reports
// (embed_frame.js). Only messages from the iframe's own window are read. The frame may have
// reported before this script ran: each frame is asked once more, now and when it loads.
(function () {
  "use strict";
  function frames() {
    return document.querySelectorAll("iframe[data-permanence-embed]");
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.permanenceEmbedHeight !== "number") return;
    var all = frames();
    for (var i = 0; i < all.length; i++) {
      if (all[i].contentWindow === event.source) {
        var height = Math.max(120, Math.min(4000, data.permanenceEmbedHeight));
        all[i].style.height = height + "px";
      }
    }
  });
  function ping(frame) {
    if (frame.contentWindow) frame.contentWindow.postMessage({ permanenceEmbedPing: true }, "*");
  }
  function start() {
    var all = frames();
    for (var i = 0; i < all.length; i++) {
      ping(all[i]);
      all[i].addEventListener("load", ping.bind(null, all[i]));
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
