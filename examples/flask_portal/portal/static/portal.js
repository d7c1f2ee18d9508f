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
      var fields = form.querySelectorAll(button.dataset.needsAll);
      var complete = fields.length > 0;
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
  document.addEventListener("htmx:afterSettle", judge);
})();
