/* "Ma journée": the panels that ask for it (data-refresh-seconds) are fetched again every few
   seconds while the tab is visible, and at once when it becomes visible again. htmx swaps a
   panel only when it changed (the server answers 204 otherwise). No inline script: the page's
   Content-Security-Policy forbids it. */
(function () {
  "use strict";
  var SELECTOR = "[data-refresh-seconds]";

  function refresh() {
    if (document.visibilityState !== "visible" || !window.htmx) {
      return;
    }
    document.querySelectorAll(SELECTOR).forEach(function (panel) {
      window.htmx.trigger(panel, "permanence:refresh");
    });
  }

  var panels = document.querySelectorAll(SELECTOR);
  if (!panels.length) {
    return;
  }
  var seconds = Math.min.apply(
    null,
    Array.prototype.map.call(panels, function (panel) {
      return parseInt(panel.getAttribute("data-refresh-seconds"), 10) || 60;
    })
  );
  window.setInterval(refresh, Math.max(seconds, 5) * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
