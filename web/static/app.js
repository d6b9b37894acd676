/* Gait station dashboard: shared helpers (CSRF-carrying fetch, confirm buttons). No frameworks. */
"use strict";

window.gait = (function () {
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  /* POST JSON to our own API with the session's CSRF token; resolves to {ok, status, body}. */
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, body: data };
      });
    });
  }

  function showMessage(text, kind) {
    var box = document.getElementById("js-message");
    if (!box) return;
    box.textContent = text;
    box.className = "flash " + (kind || "");
    box.hidden = !text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    /* Buttons that need a second tap to confirm (no blocking dialogs on a tablet). */
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
    /* New-session form: show the name field only for a new runner, prefill height for existing. */
    var sel = document.getElementById("runner_id");
    if (sel) {
      var update = function () {
        var isNew = sel.value === "" || sel.value === "new";
        var nameRow = document.getElementById("row-runner-name");
        if (nameRow) nameRow.hidden = !isNew;
        var opt = sel.options[sel.selectedIndex];
        var h = document.getElementById("height_cm");
        if (!isNew && opt && h && opt.getAttribute("data-height") && !h.dataset.touched) {
          h.value = opt.getAttribute("data-height");
        }
      };
      var h = document.getElementById("height_cm");
      if (h) h.addEventListener("input", function () { h.dataset.touched = "1"; });
      sel.addEventListener("change", update);
      update();
    }
  });

  return { csrfToken: csrfToken, postJSON: postJSON, showMessage: showMessage };
})();
