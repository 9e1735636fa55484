// Commune fields (mediation.fields.CommuneInput): a combobox that suggests communes by name or
// postcode as one types (GET data-commune-field?q=…), ARIA 1.2 "list autocomplete" pattern:
// Down/Up move through the suggestions, Enter picks, Escape closes; a click or a tap picks.
// Without JavaScript the box stays a plain text field that the server reads on its own.
(function () {
  "use strict";
  var DELAY = 150;

  function setup(input, index) {
    var url = input.getAttribute("data-commune-field");
    if (!url || input.getAttribute("role") === "combobox") return;
    if (!input.id) input.id = "commune-field-" + index;
    var list = document.createElement("ul");
    list.id = input.id + "-suggestions";
    list.className = "list-group commune-suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Communes proposées");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);

    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(next) {
      var items = list.children;
      if (active >= 0 && items[active]) {
        items[active].classList.remove("active");
        items[active].setAttribute("aria-selected", "false");
      }
      active = next;
      if (active >= 0 && items[active]) {
        items[active].classList.add("active");
        items[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", items[active].id);
        items[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      var item = results[i];
      if (!item) return;
      input.value = item.label;
      close();
      status.textContent = "Commune choisie : " + item.label;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(items) {
      results = items;
      list.textContent = "";
      active = -1;
      items.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = input.id + "-option-" + i;
        option.className = "list-group-item list-group-item-action";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "fw-semibold";
        name.textContent = item.label;
        var detail = document.createElement("span");
        detail.className = "d-block small commune-detail";
        detail.textContent = item.detail;
        option.appendChild(name);
        option.appendChild(detail);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
        });
        option.addEventListener("click", function () {
          choose(i);
        });
        list.appendChild(option);
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent =
          items.length === 1 ? "1 commune proposée" : items.length + " communes proposées";
      } else {
        close();
        status.textContent = input.value.trim() ? "Aucune commune ne correspond" : "";
      }
    }

    function ask() {
      var query = input.value.trim();
      var ticket = ++asked;
      if (query.length < 2 && !/^\d$/.test(query)) {
        show([]);
        return;
      }
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (ticket === asked && document.activeElement === input) show(data.results || []);
        })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && results.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && results.length) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }
        if (results.length) highlight(Math.min(active + 1, results.length - 1));
      } else if (event.key === "ArrowUp") {
        if (open) {
          event.preventDefault();
          highlight(Math.max(active - 1, 0));
        }
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault(); // pick, do not submit the form
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(close, 150);
    });
  }

  document.querySelectorAll("input[data-commune-field]").forEach(setup);
})();
