// On the host site (a mairie's web page), loaded by the snippet that Permanence gives:
// resizes each <iframe data-permanence-embed> to the height its page reports
// (embed_frame.js). Only messages from the iframe's own window are read.
(function () {
  "use strict";
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.permanenceEmbedHeight !== "number") return;
    var frames = document.querySelectorAll("iframe[data-permanence-embed]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        var height = Math.max(120, Math.min(4000, data.permanenceEmbedHeight));
        frames[i].style.height = height + "px";
      }
    }
  });
})();
