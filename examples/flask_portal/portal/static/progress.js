// The self-updating progress bar of a migration: polls the JSON status route every
// second and moves the bar; when the migration is finished the page reloads, to show
// Voltooid, or Mislukt with its reason and the retry button.
(function () {
  "use strict";
  var panel = document.querySelector("[data-status-url]");
  if (!panel || panel.dataset.finished === "true") {
    return;
  }
  var bar = document.getElementById("voortgang");
  var label = document.getElementById("status-label");
  var text = document.getElementById("voortgang-tekst");

  function poll() {
    fetch(panel.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) {
          window.setTimeout(poll, 3000);
          return;
        }
        bar.value = status.percent;
        bar.textContent = status.percent + "%";
        text.textContent = status.text;
        var badge = label.querySelector(".status");
        if (badge) {
          badge.textContent = status.label;
          badge.className = "status status-" + status.status.toLowerCase();
        }
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
