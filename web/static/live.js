/* Live view: numbers pushed by the station over SSE (no polling), start/stop like the GPIO buttons.
 *
 * Each shown update records {frame_t, frame_age_s, server_time, shown_at} so the display latency
 * (camera frame → number on screen) can be measured: bench/bench_dashboard.py reads
 * window.gaitLatency and the data-* attributes on #live.
 */
"use strict";

(function () {
  var root = document.getElementById("live");
  if (!root) return;
  var ACTIVE = { countdown: 1, starting: 1, capturing: 1 };
  var latency = (window.gaitLatency = []);
  var lastSessionId = null;

  function fmtDuration(s) {
    if (typeof s !== "number" || !isFinite(s)) return "—";
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function fmtNumber(v, digits) {
    if (typeof v !== "number" || !isFinite(v)) return "—";
    return v.toFixed(digits || 0);
  }
  function setField(name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      if (el.textContent !== text) el.textContent = text;
    });
  }

  function render(st) {
    var state = st.state || "idle";
    root.dataset.state = state;
    var badge = document.getElementById("state-badge");
    badge.textContent = state;
    badge.className = "badge " + state;
    setField("message", st.message || "");  /* the server words it for the state (present.live_message) */
    setField("elapsed_s", fmtDuration(st.elapsed_s));
    setField("remaining_s", fmtDuration(st.remaining_s));
    setField("cadence_spm", fmtNumber(st.cadence_spm, 0));
    setField("strides", typeof st.strides === "number" ? String(st.strides) : "—");
    setField("inference_fps", fmtNumber(st.inference_fps, 1));

    /* The countdown, big over the picture: the runner sees it from the belt. */
    var cd = document.getElementById("countdown");
    var left = typeof st.countdown_s === "number" && st.countdown_s > 0 ? Math.ceil(st.countdown_s) : null;
    cd.hidden = left === null;
    if (left !== null) setField("countdown", String(left));

    /* One thing to fix, named first and big; the rest listed below it. */
    var all = (st.quality_hints || []).map(function (h) { return String(h); });
    var fix = document.getElementById("fix-first");
    fix.hidden = !all.length;
    setField("fix", all.length ? all[0] : "");
    var controls = st.controls || {};
    if (typeof controls.metronome_spm === "number") {
      setField("metronome", controls.metronome_spm > 0 ? Math.round(controls.metronome_spm) + " steps/min" : "off");
    }

    /* after a capture: the frames the live view skipped are inferred ("catch-up") */
    var cu = st.catchup;
    var cuBox = document.getElementById("catchup");
    cuBox.hidden = !cu;
    if (cu) {
      var bar = document.getElementById("catchup-bar");
      bar.max = cu.total;
      bar.value = cu.done;
      setField("catchup", cu.done + " / " + cu.total + " frames");
    }
    /* sensor-clock gaps: frames the camera did not deliver are counted, never hidden */
    document.getElementById("frames-missed").hidden = !st.frames_missed;
    setField("frames_missed", String(st.frames_missed || 0));

    var hints = document.getElementById("hints");
    var list = all.slice(1);
    /* the heading only over a list: the first hint is already shown big above */
    document.getElementById("hints-heading").hidden = !list.length;
    var html = list;
    if (hints.dataset.key !== html.join("\n")) {
      hints.dataset.key = html.join("\n");
      hints.textContent = "";
      html.forEach(function (h) {
        var li = document.createElement("li");
        li.textContent = h; /* text, never HTML */
        hints.appendChild(li);
      });
    }

    var active = !!ACTIVE[state];
    var ready = state === "ready";
    document.getElementById("btn-start").hidden = !ready;
    document.getElementById("btn-stop").hidden = !active;
    document.getElementById("btn-cancel").hidden = !(active || ready);
    var btnNew = document.getElementById("btn-new");
    btnNew.hidden = active || state === "analysing";
    btnNew.className = ready ? "btn secondary" : "btn start huge";
    if (st.session_id != null) lastSessionId = st.session_id;
    var link = document.getElementById("result-link");
    if (lastSessionId != null && !active) {
      link.href = "/sessions/" + encodeURIComponent(lastSessionId);
      link.textContent = state === "analysing" ? "Session " + lastSessionId + " (analysing…)" : "Open session " + lastSessionId;
      link.hidden = false;
    } else {
      link.hidden = true;
    }
    var overlay = document.getElementById("preview-overlay");
    var img = document.getElementById("preview");
    var haveFrame = !!(img && img.naturalWidth > 0);
    overlay.hidden = haveFrame && state !== "analysing";
    if (!overlay.hidden) {
      overlay.textContent = state === "analysing" ? "Analysing the run…"
        : active ? "Waiting for the camera…" : "Camera idle — start a session to capture";
    }

    var rearOverlay = document.getElementById("rear-overlay");
    if (rearOverlay) {
      var rearImg = document.getElementById("rear-preview");
      var rearFrame = !!(rearImg && rearImg.naturalWidth > 0);
      rearOverlay.hidden = rearFrame && !st.rear_error;
      if (!rearOverlay.hidden) rearOverlay.textContent = st.rear_error || "Waiting for the rear camera…";
    }

    /* Latency bookkeeping, after the DOM update has been painted. */
    if (typeof st.frame_t === "number") {
      var rec = { frame_t: st.frame_t, frame_age_s: st.frame_age_s, server_time: st.server_time };
      requestAnimationFrame(function () {
        rec.shown_at = Date.now() / 1000;
        root.dataset.frameT = String(st.frame_t);
        root.dataset.shownAt = String(rec.shown_at);
        latency.push(rec);
        if (latency.length > 2000) latency.splice(0, 1000);
      });
    }
    root.dataset.updates = String((parseInt(root.dataset.updates || "0", 10) || 0) + 1);
  }

  var es = new EventSource("/live/events");
  es.onmessage = function (ev) {
    try { render(JSON.parse(ev.data)); } catch (e) { /* a malformed event must not stop the view */ }
    document.getElementById("conn").hidden = true;
  };
  es.onerror = function () { document.getElementById("conn").hidden = false; };

  function act(button, url, doneText) {
    button.disabled = true;
    window.gait.postJSON(url, {}).then(function (r) {
      button.disabled = false;
      window.gait.showMessage(r.ok ? doneText : (r.body && r.body.error) || "Failed (" + r.status + ")", r.ok ? "ok" : "error");
    }, function () {
      button.disabled = false;
      window.gait.showMessage("The station did not answer. Check the Wi-Fi.", "error");
    });
  }
  document.getElementById("btn-start").addEventListener("click", function (ev) {
    act(ev.currentTarget, "/api/capture/start", "Capture started.");
  });
  document.getElementById("btn-stop").addEventListener("click", function (ev) {
    act(ev.currentTarget, "/api/capture/stop", "Stopped: analysing the run.");
  });
  document.getElementById("btn-cancel").addEventListener("click", function (ev) {
    if (root.dataset.state === "ready") { act(ev.currentTarget, "/api/capture/cancel", "Cancelled."); return; }
    if (window.confirm("Cancel this capture? Nothing will be analysed.")) act(ev.currentTarget, "/api/capture/cancel", "Capture cancelled.");
  });
  var img = document.getElementById("preview");
  if (img) img.addEventListener("load", function () {
    if (root.dataset.state !== "analysing") document.getElementById("preview-overlay").hidden = true;
  });
  var rearImg = document.getElementById("rear-preview");
  if (rearImg) rearImg.addEventListener("load", function () {
    document.getElementById("rear-overlay").hidden = true;
  });

  /* Framing guide: where the runner and the belt should be; off once the camera is set up. */
  var guide = document.getElementById("framing-guide");
  var toggle = document.getElementById("guide-toggle");
  if (guide && toggle) {
    toggle.checked = window.localStorage.getItem("gait.guide") !== "off";
    guide.hidden = !toggle.checked;
    toggle.addEventListener("change", function () {
      guide.hidden = !toggle.checked;
      window.localStorage.setItem("gait.guide", toggle.checked ? "on" : "off");
    });
  }

  /* Metronome from the dashboard: the buzzer clicks the cadence the runner should match. */
  var metro = document.getElementById("metronome");
  if (metro) metro.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var off = ev.submitter && ev.submitter.id === "metronome-off";
    var spm = off ? 0 : parseFloat(document.getElementById("metronome-spm").value);
    window.gait.postJSON(metro.getAttribute("action"), { spm: spm }).then(function (r) {
      if (!r.ok) { window.gait.showMessage((r.body && r.body.error) || "Metronome not changed (" + r.status + ")", "error"); return; }
      setField("metronome", r.body.metronome_spm > 0 ? Math.round(r.body.metronome_spm) + " steps/min" : "off");
      window.gait.showMessage(r.body.metronome_spm > 0 ? "Metronome on." : "Metronome off.", "ok");
    });
  });

  window.addEventListener("pagehide", function () { es.close(); });
})();
