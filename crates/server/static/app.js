// Patchbay web UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Filter selects apply as soon as they change (the Filter button stays for keyboard users
  // and for browsers without JavaScript).
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.requestSubmit();
    });
  });

  // The app picker narrows its list while typing, every word anywhere in an app's text, as the
  // server's search does (the search form and the category links work without this); a
  // category heading whose apps are all hidden goes too.
  var search = document.getElementById("app-search");
  var items = document.querySelectorAll("[data-search]");
  var groups = document.querySelectorAll("[data-group]");
  var empty = document.getElementById("app-search-empty");
  if (search && items.length) {
    var apply = function () {
      var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (item) {
        var text = item.getAttribute("data-search");
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        item.hidden = !match;
        if (match) shown += 1;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-search]:not([hidden])");
      });
      if (empty) empty.hidden = shown !== 0;
    };
    search.addEventListener("input", apply);
    apply();
  }

  // A slow action (Verify calls the provider) shows that it is running and is not sent twice.
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (form.dataset.sent === "1") return;
      form.dataset.sent = "1";
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button[type='submit'], button:not([type])").forEach(function (b) {
        // Disabled after the submission has started, so the form data is already taken.
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  // Rename: focus the name field when the inline form opens.
  document.querySelectorAll("details.rename").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        var input = details.querySelector("input[name='name']");
        if (input) { input.focus(); input.select(); }
      }
    });
  });

  // New step: the connection picker offers only connections of the chosen module's app (the
  // server checks the same on Save).
  document.querySelectorAll("select[data-narrows]").forEach(function (module) {
    var picker = document.getElementById(module.getAttribute("data-narrows"));
    if (!picker) return;
    var narrow = function () {
      var app = module.value ? module.value.split(".")[0] : "";
      picker.querySelectorAll("optgroup[data-app]").forEach(function (group) {
        var other = app !== "" && group.getAttribute("data-app") !== app;
        group.hidden = other;
        group.disabled = other;
        if (other && group.contains(picker.selectedOptions[0])) picker.value = "add";
      });
    };
    module.addEventListener("change", narrow);
    narrow();
  });
})();
