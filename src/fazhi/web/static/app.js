/* fazhi: behaviour shared by every page (no inline scripts: the CSP allows only these files). */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.fazhiCsrf = meta ? meta.getAttribute("content") : "";
  // confirmation before destructive forms
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    var msg = f && f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  }, true);
  // "back" links
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[data-back]");
    if (a && window.history.length > 1) { ev.preventDefault(); window.history.back(); }
  });
  // filters: apply select changes at once
  var filters = document.getElementById("filters");
  if (filters) {
    filters.addEventListener("change", function (ev) {
      if (ev.target.tagName === "SELECT") { filters.submit(); }
    });
  }
})();
