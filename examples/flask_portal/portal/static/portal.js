// Small helps for when scripts run; every page works without them (htmx does the live
// parts, see static/vendor/).
(function () {
  "use strict";

  // The Instellingen menu (a <details>) closes on a click elsewhere and on Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu-dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.menu-dropdown[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });

  // A button with data-needs-all="<selector>" is enabled only while every field the
  // selector finds has a value (Start migratie: a target for every chosen item). Without
  // scripts it stays enabled and the server names what is missing.
  function judge() {
    document.querySelectorAll("[data-needs-all]").forEach(function (button) {
      var form = button.form || document;
      // No field to fill is complete too (every item has its proposal), unless a field
      // says otherwise by its empty value (no connection chosen yet).
      var fields = form.querySelectorAll(button.dataset.needsAll);
      var complete = true;
      fields.forEach(function (field) {
        if (!field.value || field.value === "0") {
          complete = false;
        }
      });
      button.disabled = !complete;
      var hint = document.getElementById(button.dataset.hint);
      if (hint) {
        hint.hidden = complete;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", judge);
  document.addEventListener("change", judge);
  document.addEventListener("input", judge);
  document.addEventListener("htmx:afterSettle", judge);

  // "Selecteer alle" / "Selecteer geen" (data-select="all" | "none") tick or clear every
  // checkbox of their form at once, without a round trip; without scripts the server does
  // it. Each [data-selected-count="<selector>"] says how many boxes under it are ticked.
  function count() {
    document.querySelectorAll("[data-selected-count]").forEach(function (counter) {
      var list = document.querySelector(counter.dataset.selectedCount);
      var shown = counter.querySelector(".num");
      if (list && shown) {
        shown.textContent = list.querySelectorAll("input[type=checkbox]:checked").length;
      }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-select]");
    if (!button || !button.form) {
      return;
    }
    event.preventDefault();
    var tick = button.dataset.select === "all";
    button.form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.checked = tick;
    });
    count();
  });
  document.addEventListener("change", count);
  document.addEventListener("DOMContentLoaded", count);
  document.addEventListener("htmx:afterSettle", count);
})();
