// Session form: show the procedure areas only while "Démarches administratives" is ticked.
// Without JavaScript every field stays visible (the service refuses areas without the theme).
(function () {
  "use strict";
  var block = document.getElementById("bloc-demarches");
  if (!block) return;
  var theme = document.querySelector(
    'input[name="themes"][value="' + block.getAttribute("data-theme") + '"]'
  );
  if (!theme) return;
  function needed() {
    // Keep it open when something in it was filled or is in error: never hide input.
    var ticked = block.querySelector('input[type="checkbox"]:checked');
    var detail = block.querySelector('input[type="text"]');
    var error = block.querySelector(".invalid-feedback");
    return theme.checked || ticked || (detail && detail.value) || error;
  }
  function update() {
    block.hidden = !needed();
  }
  theme.addEventListener("change", update);
  update();
})();
