// fixcast pages: the player on a session page, seeking from the command list, edits,
// and `/` to search. Text from recordings is only ever set with textContent.
(function () {
  "use strict";

  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
    var q = document.getElementById("q");
    if (!q) return;
    e.preventDefault();
    q.focus();
    q.select();
  });

  // Home: sessions being recorded right now, kept current.
  var liveNow = document.getElementById("live-now");
  if (liveNow) {
    var refreshLive = function () {
      fetch("/api/sessions?status=live&limit=20")
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (j) {
          if (!j) return;
          var ul = liveNow.querySelector("ul");
          ul.textContent = "";
          j.sessions.forEach(function (s) {
            var li = document.createElement("li");
            li.className = "session live";
            var a = document.createElement("a");
            a.className = "title";
            a.href = "/s/" + encodeURIComponent(s.id);
            a.textContent = s.display_title;
            var badge = document.createElement("span");
            badge.className = "badge live";
            badge.textContent = "LIVE";
            li.appendChild(a);
            li.appendChild(document.createTextNode(" "));
            li.appendChild(badge);
            ul.appendChild(li);
          });
          liveNow.hidden = j.sessions.length === 0;
        })
        .catch(function () {});
    };
    refreshLive();
    setInterval(refreshLive, 1000);
  }

  var first = document.getElementById("session");
  if (first) initSession(first);

  function initSession(root) {
    var id = root.dataset.id;
    var api = "/api/sessions/" + encodeURIComponent(id);

    function parseTime(s) {
      var total = 0;
      var parts = String(s).split(":");
      for (var i = 0; i < parts.length; i++) {
        var v = parseFloat(parts[i]);
        if (!isFinite(v) || v < 0) return null;
        total = total * 60 + v;
      }
      return total;
    }

    var start = parseFloat(root.dataset.start) || 0;
    var fromHash = /(?:^#|&)t=([0-9.:]+)/.exec(location.hash);
    if (fromHash && parseTime(fromHash[1]) !== null) start = parseTime(fromHash[1]);

    var rows = Array.prototype.slice.call(root.querySelectorAll("li.cmd"));
    var opts = { fit: "width", preload: true, startAt: start, terminalFontSize: "small" };
    var src;
    if (root.dataset.format === "cast") {
      src = api + "/cast";
      opts.markers = rows.map(function (r) {
        return [parseFloat(r.dataset.start) || 0, r.querySelector(".line").textContent.split("\n")[0]];
      });
    } else {
      src = { url: api + "/segments", format: "segmented" };
    }
    var el = document.getElementById("player");
    var live = root.dataset.live === "1";
    var timers = [];
    var player, ready;
    if (live) {
      // Live: the screen now, then the stream (asciinema-player's eventsource driver).
      player = window.AsciinemaPlayer.create(
        { driver: "eventsource", url: api + "/live" },
        el,
        { fit: "width", autoPlay: true, terminalFontSize: "small" }
      );
      ready = Promise.resolve();
      root.dataset.ready = "live";
      var viewers = document.getElementById("viewers");
      var switching = false;
      // Viewer count; when the recording ends, the page becomes the replay in place.
      timers.push(setInterval(function () {
        fetch(api).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (j) {
          if (!j || switching) return;
          if (j.session.live) {
            var n = j.session.viewers || 0;
            viewers.textContent = n + (n === 1 ? " viewer" : " viewers");
            return;
          }
          switching = true;
          return fetch(location.href).then(function (r) {
            return r.text();
          }).then(function (html) {
            var next = new DOMParser().parseFromString(html, "text/html").getElementById("session");
            if (!next || next.dataset.live === "1") {
              switching = false;
              return;
            }
            timers.forEach(clearInterval);
            if (player.dispose) player.dispose();
            root.replaceWith(next);
            initSession(next);
          });
        }).catch(function () {
          switching = false;
        });
      }, 1000));
    } else {
      player = window.AsciinemaPlayer.create(src, el, opts);
      // Show the screen at the start time at once, not a blank poster until Play.
      ready = Promise.resolve(player.seek(start)).then(function () {
        root.dataset.ready = "1";
      }, function (err) {
        root.dataset.ready = "error";
        console.error("fixcast: player", err);
      });
    }
    window.fixcastPlayer = player;

    function current(seq) {
      rows.forEach(function (r) {
        r.classList.toggle("current", r.dataset.seq === String(seq));
      });
    }

    rows.forEach(function (r) {
      r.querySelector("button.seek").addEventListener("click", function () {
        var t = parseFloat(r.dataset.start) || 0;
        current(r.dataset.seq);
        history.replaceState(null, "", "?t=" + t.toFixed(1) + "&hit=" + r.dataset.seq);
        ready.then(function () {
          return player.seek(t);
        }).then(function () {
          return player.play();
        });
      });
    });

    // Follow playback in the list.
    if (!live) timers.push(setInterval(function () {
      var p = player.getCurrentTime && player.getCurrentTime();
      Promise.resolve(p).then(function (now) {
        if (typeof now !== "number") return;
        var at = null;
        rows.forEach(function (r) {
          if ((parseFloat(r.dataset.start) || 0) <= now + 0.05) at = r.dataset.seq;
        });
        if (at !== null) current(at);
      });
    }, 700));

    var hit = root.dataset.hit;
    if (hit) {
      var row = document.getElementById("cmd-" + hit);
      var list = root.querySelector("aside.commands");
      // Scroll the list only, not the page (the player stays in view).
      if (row && list) list.scrollTop = row.offsetTop - list.offsetTop - list.clientHeight / 3;
      fetch(api + "/commands/" + encodeURIComponent(hit))
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (c) {
          if (!c) return;
          document.getElementById("hit-command").textContent = c.command;
          document.getElementById("hit-text").textContent = c.output || "(no output)";
          document.getElementById("hit-output").hidden = false;
        });
    }

    function patch(body) {
      return fetch(api, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.error || r.statusText);
          return j;
        });
      });
    }

    var form = document.getElementById("edit-form");
    var status = document.getElementById("edit-status");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var tags = form.elements.tags.value.split(",").map(function (t) {
        return t.trim();
      }).filter(Boolean);
      status.textContent = "Saving…";
      patch({ title: form.elements.title.value, tags: tags, notes: form.elements.notes.value })
        .then(function (s) {
          document.getElementById("title").textContent = s.display_title;
          status.textContent = "Saved";
        })
        .catch(function (err) {
          status.textContent = "Not saved: " + err.message;
        });
    });

    Array.prototype.forEach.call(root.querySelectorAll("button.mark-fix"), function (b) {
      b.addEventListener("click", function () {
        var row = b.closest("li.cmd");
        var unmark = row.classList.contains("fix");
        patch({ fix_seq: unmark ? null : parseInt(b.dataset.seq, 10) })
          .then(function () {
            location.reload();
          })
          .catch(function (err) {
            b.textContent = "failed: " + err.message;
          });
      });
    });
  }
})();
