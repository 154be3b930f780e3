// Live updates for cairn's dashboard. The server streams each page's
// content, re-rendered whenever the objects it shows change, as
// server-sent events on the page's own URL; this swaps it in. Without
// JavaScript the page is the same, rendered once, and reloads itself.
(function () {
  "use strict";
  var main = document.getElementById("content");
  var badge = document.getElementById("live");
  if (!main || main.dataset.live !== "true" || !window.EventSource) {
    return;
  }
  var es = new EventSource(window.location.pathname + window.location.search);
  es.onopen = function () {
    badge.hidden = false;
    badge.textContent = "live";
    badge.className = "badge on";
  };
  es.onmessage = function (e) {
    main.innerHTML = e.data;
    main.dataset.updated = String(Date.now());
  };
  es.onerror = function () {
    // EventSource reconnects by itself (the server asks for 2 s).
    badge.hidden = false;
    badge.textContent = "reconnecting…";
    badge.className = "badge off";
  };
})();
