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
    /* A confirmation tick names what was chosen: a changed choice needs a new tick. */
    document.querySelectorAll("input[data-confirm-for]").forEach(function (box) {
      var sel = document.getElementById(box.getAttribute("data-confirm-for"));
      if (!sel) return;
      box.value = sel.value;
      sel.addEventListener("change", function () { box.checked = false; box.value = sel.value; });
    });
    /* New runner's name: say at once when it is already on record (the server offers it too). */
    var nameInput = document.getElementById("runner_name");
    var nameMsg = document.getElementById("name-exists");
    if (nameInput && nameMsg) {
      var known = [].map.call(document.querySelectorAll("#runner-names option"), function (o) {
        return o.value.replace(/\s+/g, " ").trim().toLowerCase();
      });
      nameInput.addEventListener("input", function () {
        var key = nameInput.value.replace(/\s+/g, " ").trim().toLowerCase();
        var hit = key && known.indexOf(key) >= 0;
        nameMsg.hidden = !hit;
        nameMsg.textContent = hit ? "This runner is already on record: choose them under Runner (or continue, and you will be asked)." : "";
      });
    }
    /* New-session form: show the name field only for a new runner, prefill height for existing. */
    var sel = document.getElementById("runner_id");
    if (sel) {
      var update = function () {
        var isNew = sel.value === "" || sel.value === "new";
        var nameRow = document.getElementById("row-runner-name");
        if (nameRow) nameRow.hidden = !isNew;
        var opt = sel.options[sel.selectedIndex];
        var h = document.getElementById("height_cm");
        var ft = document.getElementById("height_ft"), inch = document.getElementById("height_in");
        var cm = opt ? parseFloat(opt.getAttribute("data-height")) : NaN;
        if (!isNew && !isNaN(cm) && h && !h.dataset.touched) h.value = opt.getAttribute("data-height");
        if (!isNew && !isNaN(cm) && ft && inch && !ft.dataset.touched) {
          var total = Math.round(cm / 2.54);
          ft.value = Math.floor(total / 12);
          inch.value = total % 12;
        }
      };
      ["height_cm", "height_ft", "height_in"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.addEventListener("input", function () {
          (document.getElementById("height_ft") || el).dataset.touched = "1";
          el.dataset.touched = "1";
        });
      });
      sel.addEventListener("change", update);
      update();
    }
  });

  return { csrfToken: csrfToken, postJSON: postJSON, showMessage: showMessage };
})();
