/* Recorded-run player: frames fetched one by one from the station (never cached), the skeleton
   drawn from the stored keypoints on a canvas, slow motion, frame stepping, jumps to the evidence
   frames. Two players in a .player-group step and play together (before/after, shoe A/B). */
"use strict";

(function () {
  var LEFT = "#2b7bd6", RIGHT = "#e0662b", MID = "#f2f2f2";

  function Player(el) {
    this.el = el;
    this.canvas = el.querySelector("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.base = el.getAttribute("data-frame");
    this.i = 0;
    this.rate = 0.25;
    this.playing = false;
    this.skeleton = true;
    this.meta = null;
    this.img = new Image();
    this.loading = false;
    this.pending = null;
    this.timer = null;
    this.onChange = null;
    var self = this;
    el.dataset.index = "0";
    el.dataset.ready = "0";
    fetch(el.getAttribute("data-video"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (meta) { self.ready(meta); })
      .catch(function (err) { self.say("The video cannot be shown: " + err.message); });
    this.bind();
  }

  Player.prototype.say = function (text) {
    var pos = this.el.querySelector('[data-field="pos"]');
    if (pos) pos.textContent = text;
  };

  Player.prototype.ready = function (meta) {
    this.meta = meta;
    if (meta.width && meta.height) {
      this.canvas.width = meta.width;
      this.canvas.height = meta.height;
    }
    var seek = this.el.querySelector('[data-act="seek"]');
    if (seek) seek.max = Math.max(0, meta.n - 1);
    var box = this.el.querySelector('[data-field="evidence"]');
    var self = this;
    if (box) {
      box.textContent = "";
      meta.evidence.forEach(function (ev) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "chip";
        b.textContent = ev.label + " · " + ev.t.toFixed(2) + " s";  // the clinic's words, from the station
        b.addEventListener("click", function () { self.pause(); self.seek(ev.index); });
        box.appendChild(b);
      });
    }
    this.el.dataset.ready = "1";
    this.seek(0);
  };

  Player.prototype.bind = function () {
    var self = this;
    this.el.querySelectorAll("[data-act]").forEach(function (c) {
      if (c.closest(".player") !== self.el) return;
      var act = c.getAttribute("data-act");
      if (act === "back") c.addEventListener("click", function () { self.pause(); self.step(-1); });
      if (act === "fwd") c.addEventListener("click", function () { self.pause(); self.step(1); });
      if (act === "play") c.addEventListener("click", function () { self.playing ? self.pause() : self.play(); });
      if (act === "rate") c.addEventListener("change", function () { self.rate = parseFloat(c.value) || 1; });
      if (act === "skeleton") c.addEventListener("change", function () { self.skeleton = c.checked; self.draw(); });
      if (act === "seek") c.addEventListener("input", function () { self.pause(); self.seek(parseInt(c.value, 10) || 0); });
    });
    this.img.addEventListener("load", function () {
      self.loading = false;
      self.draw();
      if (self.pending !== null) { var p = self.pending; self.pending = null; self.seek(p); }
    });
    this.img.addEventListener("error", function () { self.loading = false; self.say("frame " + self.i + " could not be loaded"); });
  };

  Player.prototype.seek = function (i) {
    if (!this.meta || !this.meta.n) return;
    i = Math.max(0, Math.min(this.meta.n - 1, i));
    this.i = i;
    this.el.dataset.index = String(i);
    var seek = this.el.querySelector('[data-act="seek"]');
    if (seek) seek.value = String(i);
    if (this.loading) { this.pending = i; return; }
    this.loading = true;
    this.el.dataset.loaded = "";
    this.img.src = this.base + i + ".jpg";
    if (this.onChange) this.onChange(this);
  };

  Player.prototype.step = function (d) { this.seek(this.i + d); };

  Player.prototype.play = function () {
    if (!this.meta || this.playing) return;
    this.playing = true;
    this.setPlayLabel("Pause");
    this.tick();
  };

  Player.prototype.pause = function () {
    this.playing = false;
    clearTimeout(this.timer);
    this.setPlayLabel("Play");
  };

  Player.prototype.setPlayLabel = function (text) {
    var b = this.el.querySelector('[data-act="play"]');
    if (b && b.closest(".player") === this.el) b.textContent = text;
  };

  Player.prototype.tick = function () {
    var self = this;
    if (!this.playing) return;
    if (this.i >= this.meta.n - 1) { this.pause(); return; }
    var t = this.meta.t;
    var dt = Math.max(0.005, (t[this.i + 1] - t[this.i]) || 1 / 30);
    var started = performance.now();
    var wait = function () {
      // the next frame only once this one is on screen: slow links drop speed, never frames
      if (self.loading) { self.timer = setTimeout(wait, 5); return; }
      var left = dt * 1000 / self.rate - (performance.now() - started);
      self.timer = setTimeout(function () { if (self.playing) { self.step(1); self.tick(); } }, Math.max(0, left));
    };
    wait();
  };

  Player.prototype.draw = function () {
    var c = this.ctx, m = this.meta;
    if (!m) return;
    c.drawImage(this.img, 0, 0, this.canvas.width, this.canvas.height);
    this.el.dataset.loaded = String(this.i);
    var kp = m.kp[this.i];
    if (this.skeleton && kp) {
      var sx = this.canvas.width / (this.img.naturalWidth || this.canvas.width);
      var sy = this.canvas.height / (this.img.naturalHeight || this.canvas.height);
      var seen = function (p) { return p && p[0] >= 0 && p[2] >= 30; };
      c.lineWidth = Math.max(2, this.canvas.width / 300);
      m.edges.forEach(function (e) {
        var a = kp[e[0]], b = kp[e[1]];
        if (!seen(a) || !seen(b)) return;
        var l = m.left.indexOf(e[0]) >= 0 && m.left.indexOf(e[1]) >= 0;
        var r = m.right.indexOf(e[0]) >= 0 && m.right.indexOf(e[1]) >= 0;
        c.strokeStyle = l ? LEFT : r ? RIGHT : MID;
        c.beginPath();
        c.moveTo(a[0] * sx, a[1] * sy);
        c.lineTo(b[0] * sx, b[1] * sy);
        c.stroke();
      });
      kp.forEach(function (p, j) {
        if (!seen(p)) return;
        c.fillStyle = m.left.indexOf(j) >= 0 ? LEFT : m.right.indexOf(j) >= 0 ? RIGHT : MID;
        c.beginPath();
        c.arc(p[0] * sx, p[1] * sy, Math.max(3, c.lineWidth * 1.4), 0, 2 * Math.PI);
        c.fill();
      });
    }
    var t = m.t[this.i];
    this.say((t !== undefined ? t.toFixed(2) + " s" : "") + " · frame " + (this.i + 1) + " / " + m.n +
      (kp ? "" : " · no keypoints"));
  };

  /* A group: one bar steps, plays and sets the speed of every player in it. */
  function Group(el, players) {
    var bar = el.querySelector(":scope > .player-controls");
    if (!bar) return;
    var playing = false;
    bar.querySelectorAll("[data-act]").forEach(function (c) {
      var act = c.getAttribute("data-act");
      if (act === "back" || act === "fwd") c.addEventListener("click", function () {
        players.forEach(function (p) { p.pause(); p.step(act === "fwd" ? 1 : -1); });
        playing = false; bar.querySelector('[data-act="play"]').textContent = "Play both";
      });
      if (act === "play") c.addEventListener("click", function () {
        playing = !playing;
        players.forEach(function (p) { playing ? p.play() : p.pause(); });
        c.textContent = playing ? "Pause both" : "Play both";
      });
      if (act === "rate") c.addEventListener("change", function () {
        players.forEach(function (p) { p.rate = parseFloat(c.value) || 1; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var all = [];
    document.querySelectorAll(".player[data-video]").forEach(function (el) {
      var p = new Player(el);
      el.player = p;
      all.push(p);
    });
    document.querySelectorAll(".player-group").forEach(function (g) {
      Group(g, all.filter(function (p) { return g.contains(p.el); }));
    });
    /* "Show in the video" from a stride in the correction form */
    window.gaitPlayers = all;
  });
})();
