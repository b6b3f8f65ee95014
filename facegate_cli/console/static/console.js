// The live timeline: re-fetch the rows every few seconds (server-rendered HTML, same session cookie).
(function () {
  "use strict";
  var rows = document.querySelector("[data-live]");
  if (!rows) { return; }
  var every = parseInt(rows.getAttribute("data-every"), 10) || 3000;
  var busy = false;
  function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(rows.getAttribute("data-live"), {
      credentials: "same-origin",
      headers: { "Accept": "text/html", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return null; }
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && html !== undefined && html.trim() !== rows.innerHTML.trim()) { rows.innerHTML = html; }
    }).catch(function () { /* the next tick tries again */ }).then(function () { busy = false; });
  }
  setInterval(refresh, every);
}());
