// The one-page session form: show the part of "who" that is chosen, search known residents as
// the name is typed (the page itself answers: POST with action=search, the results swapped in),
// Enter in the search box searches. Without JavaScript every part stays visible and the
// "Chercher" button does the search.
(function () {
  "use strict";
  var form = document.getElementById("saisie");
  if (!form) return;
  var panels = form.querySelectorAll(".who-panel");
  var radios = form.querySelectorAll('input[name="who"]');
  var results = document.getElementById("resultats-usagers");
  var box = document.getElementById("id_q");

  function chosen() {
    var checked = form.querySelector('input[name="who"]:checked');
    return checked ? checked.value : "known";
  }
  function show() {
    var who = chosen();
    panels.forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-panel") !== who;
    });
    wireSwitch();
  }
  function wireSwitch() {
    var button = results && results.querySelector("[data-switch-new]");
    var hint = results && results.querySelector("[data-no-js-hint]");
    if (hint) hint.hidden = true;
    if (!button || button.dataset.wired) return;
    button.hidden = false;
    button.dataset.wired = "1";
    button.addEventListener("click", function () {
      var words = (box.value || "").trim().split(/\s+/);
      var first = document.getElementById("id_new_first_name");
      var last = document.getElementById("id_new_last_name");
      if (words.length > 1 && !first.value) first.value = words[0];
      if (!last.value) last.value = words.length > 1 ? words.slice(1).join(" ") : words[0];
      var radio = document.getElementById("id_who_1");
      radio.checked = true;
      show();
      (first.value ? document.getElementById("id_new_phone") : first).focus();
    });
  }
  radios.forEach(function (radio) {
    radio.addEventListener("change", function () {
      show();
      var panel = form.querySelector('.who-panel[data-panel="' + chosen() + '"]');
      var field = panel && panel.querySelector("input:not([type=hidden]), select");
      if (field) field.focus();
    });
  });
  show();

  // "Orienté vers" only with the outcome "Orienté" (kept when filled or in error).
  var towards = document.getElementById("id_redirected_to");
  var towardsBlock = towards && towards.closest(".mb-3");
  function updateTowards() {
    if (!towardsBlock) return;
    var outcome = form.querySelector('input[name="outcome"]:checked');
    towardsBlock.hidden = !(
      (outcome && outcome.value === "redirected") ||
      towards.value ||
      towardsBlock.querySelector(".invalid-feedback")
    );
  }
  form.querySelectorAll('input[name="outcome"]').forEach(function (radio) {
    radio.addEventListener("change", updateTowards);
  });
  updateTowards();

  if (!box || !results) return;
  var timer = null;
  var sent = 0;
  function search() {
    var data = new FormData(form);
    data.set("action", "search");
    var mine = ++sent;
    // form.action would be the buttons named "action": read the attribute.
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null || mine !== sent) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("resultats-usagers");
        if (fresh) {
          results.innerHTML = fresh.innerHTML;
          wireSwitch();
        }
      })
      .catch(function () {});
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    if (box.value.trim().length < 2) return;
    timer = setTimeout(search, 250);
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      search();
    }
  });
})();
