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

  // The live player's buffer, fixed and small: the player's adaptive buffer grows with
  // every late event and never shrinks back, so a viewer drifted seconds behind.
  var LIVE_BUFFER_MS = 100;
  // How long before a command a link or a chapter opens, so its command line is on
  // screen (as the server's links: floored to hundredths, never rounded up).
  var LEAD = 0.05;

  function playTime(start) {
    return Math.floor(Math.max(0, start - LEAD) * 100) / 100;
  }

  // `1:02.5`, `3.2 s`, `4 min 05 s` as the server writes them (html.rs).
  function fmtOffset(s) {
    s = Math.max(0, s || 0);
    var m = Math.floor(s / 60);
    var rest = (s - m * 60).toFixed(1);
    return m + ":" + (rest.length < 4 ? "0" + rest : rest);
  }
  function fmtDuration(s) {
    s = Math.max(0, s || 0);
    var two = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + two(Math.floor(s % 60)) + " s";
    return Math.floor(s / 3600) + " h " + two(Math.floor((s % 3600) / 60)) + " min";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A command row as pages.rs renders it (for the rows a live session adds).
  function commandRow(c) {
    var li = el("li", "cmd");
    li.id = "cmd-" + c.seq;
    li.dataset.seq = String(c.seq);
    li.dataset.start = String(Math.max(0, c.start));
    var seek = el("button", "seek");
    seek.type = "button";
    seek.title = "play from here";
    var exit = c.exit === null || c.exit === undefined ? "?" : String(c.exit);
    var badge = el("span", "exit " + (exit === "?" ? "unknown" : exit === "0" ? "ok" : "fail"), exit);
    badge.title = "exit status";
    seek.appendChild(badge);
    seek.appendChild(el("code", "line", c.command));
    li.appendChild(seek);
    var meta = el("div", "meta");
    meta.appendChild(el("span", "at", fmtOffset(c.start)));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "", fmtDuration(c.duration)));
    if (c.cwd) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("code", "cwd", c.cwd));
    }
    meta.appendChild(document.createTextNode(" "));
    var mark = el("button", "mark-fix", "mark as the fix");
    mark.type = "button";
    mark.dataset.seq = String(c.seq);
    meta.appendChild(mark);
    li.appendChild(meta);
    if (c.confusables && c.confusables.length) {
      var list = c.confusables.map(function (x) {
        return x.code_point + ' "' + x.char + '"' + (x.looks_like ? ' looks like "' + x.looks_like + '"' : "");
      });
      var note = el("div", "suspicious", "⚠ look-alike characters: " + list.join(", "));
      note.setAttribute("role", "note");
      li.appendChild(note);
    }
    return li;
  }

  // The player's size: fit to the column's width, unless that makes the text too small
  // to read (a phone: then a readable size that scrolls sideways) or pushes the control
  // bar below the window (then fit inside the height that is left). The player is always
  // made to fit its wrapper's width (its `fit` option is read once, but it follows its
  // wrapper's size), and the page sets how wide that wrapper is, again whenever the window
  // is resized: the player rescales in place, the recording neither fetched again nor
  // moved from where it was.
  var FONT_PX = 15; // the player's font size at scale 1 (asciinema-player.css)
  var BAR_PX = 32; // its control bar, below the terminal
  var READABLE_PX = 9; // below this, the terminal scrolls sideways at SCROLL_PX
  var SCROLL_PX = 11;

  // The terminal's size in pixels at FONT_PX, measured as the player measures it.
  function terminalPx(cols, rows) {
    var outer = document.createElement("div");
    outer.className = "ap-default-term-ff";
    outer.style.cssText = "height:0;overflow:hidden;font-size:" + FONT_PX + "px";
    var term = document.createElement("div");
    term.className = "ap-term";
    term.style.cssText = "width:" + cols + "ch;height:" + rows * 1.3333333333 + "em;font-size:100%";
    outer.appendChild(term);
    document.body.appendChild(outer);
    var r = term.getBoundingClientRect();
    document.body.removeChild(outer);
    // A font not loaded yet measures as nothing: a monospace cell is about 0.6 em wide.
    return {
      w: r.width || cols * FONT_PX * 0.6,
      h: r.height || rows * FONT_PX * 1.3333,
    };
  }

  // Sets the player box's mode (its classes) and its wrapper's width for the window as
  // it is now.
  function layOut(root, box) {
    var cols = parseInt(root.dataset.cols, 10) || 80;
    var rows = parseInt(root.dataset.rows, 10) || 24;
    var term = terminalPx(cols, rows);
    var width = box.clientWidth;
    var scale = width / term.w;
    var mode = "width";
    var wrapper = null;
    if (FONT_PX * scale < READABLE_PX) {
      mode = "scroll";
      wrapper = term.w * SCROLL_PX / FONT_PX;
    } else {
      var top = box.getBoundingClientRect().top + window.scrollY;
      var avail = window.innerHeight - top - 12;
      if (window.innerWidth > 900 && term.h * scale + BAR_PX > avail && avail > 240) {
        mode = "fit-both";
        wrapper = Math.floor((avail - BAR_PX) / term.h * term.w);
      }
    }
    box.classList.toggle("scroll", mode === "scroll");
    box.classList.toggle("fit-both", mode === "fit-both");
    if (wrapper === null) box.style.removeProperty("--wrapper-width");
    else box.style.setProperty("--wrapper-width", Math.ceil(wrapper) + "px");
    keepBar(box);
    box.dataset.fit = mode;
  }

  // The control bar spans the terminal, which is wider than the box when it scrolls:
  // keep it as wide as the box and over its visible part (app.css), so Play and the
  // progress bar stay in reach while the text scrolls under them.
  function keepBar(box) {
    box.style.setProperty("--box-width", box.clientWidth + "px");
    box.style.setProperty("--box-scroll", box.scrollLeft + "px");
  }

  // The session on the page, laid out again a moment after the window stops changing
  // size (a window dragged narrower, a phone turned).
  var onScreen = null;
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      if (onScreen && onScreen.root.isConnected) layOut(onScreen.root, onScreen.box);
    }, 100);
  });

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
    // Opened with no time (no ?t=, no hit, not continuing a live view): a poster frame
    // (the fix, else the first command) rather than a blank screen at 0:00.
    var poster = !fromHash && root.dataset.poster !== undefined && root.dataset.poster !== "" ? parseFloat(root.dataset.poster) : null;

    var list = root.querySelector("ol.cmds");
    var rows = Array.prototype.slice.call(root.querySelectorAll("li.cmd"));
    var box = document.getElementById("player");
    layOut(root, box);
    onScreen = { root: root, box: box };
    box.addEventListener("scroll", function () {
      keepBar(box);
    }, { passive: true });
    var opts = { fit: "width", preload: true };
    var src;
    if (root.dataset.format === "cast") {
      src = api + "/cast";
      opts.markers = rows.map(function (r) {
        return [parseFloat(r.dataset.start) || 0, r.querySelector(".line").textContent.split("\n")[0]];
      });
    } else {
      src = { url: api + "/segments", format: "segmented" };
    }
    var live = root.dataset.live === "1";
    var timers = [];
    var player, ready;
    var durationEl = document.getElementById("duration");
    if (live) {
      // Live: the screen now, then the stream (asciinema-player's eventsource driver).
      player = window.AsciinemaPlayer.create(
        { driver: "eventsource", url: api + "/live", bufferTime: LIVE_BUFFER_MS },
        box,
        { fit: opts.fit, autoPlay: true }
      );
      ready = Promise.resolve();
      root.dataset.ready = "live";
      var viewers = document.getElementById("viewers");
      var switching = false;
      // Viewer count, commands and duration; when the recording ends, the page becomes
      // the replay in place, at the moment the viewer was watching.
      timers.push(setInterval(function () {
        fetch(api).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (j) {
          if (!j || switching) return;
          if (j.session.live) {
            var n = j.session.viewers || 0;
            viewers.textContent = n + (n === 1 ? " viewer" : " viewers");
            updateCommands(j.commands || []);
            return Promise.resolve(player.getCurrentTime()).then(function (now) {
              var last = j.commands && j.commands.length ? j.commands[j.commands.length - 1] : null;
              var d = Math.max(typeof now === "number" ? now : 0, last ? last.end : 0, j.session.duration || 0);
              if (durationEl) durationEl.textContent = fmtDuration(d);
            });
          }
          switching = true;
          var at = Promise.resolve(player.getCurrentTime()).catch(function () {
            return 0;
          });
          return Promise.all([at, fetch(location.href).then(function (r) {
            return r.text();
          })]).then(function (both) {
            var next = new DOMParser().parseFromString(both[1], "text/html").getElementById("session");
            if (!next || next.dataset.live === "1") {
              switching = false;
              return;
            }
            timers.forEach(clearInterval);
            if (player.dispose) player.dispose();
            if (typeof both[0] === "number" && both[0] > 0) {
              next.dataset.start = String(both[0]);
              next.dataset.poster = "";
            }
            root.replaceWith(next);
            initSession(next);
          });
        }).catch(function () {
          switching = false;
        });
      }, 1000));
    } else {
      if (poster !== null && start === 0) opts.poster = "npt:" + poster;
      else opts.startAt = start;
      player = window.AsciinemaPlayer.create(src, box, opts);
      var shown;
      if (opts.poster) {
        // The poster is drawn once the recording is loaded (its metadata).
        shown = new Promise(function (resolve) {
          player.addEventListener("metadata", function () {
            resolve();
          });
        });
      } else {
        // Show the screen at the start time at once, not a blank screen until Play.
        shown = Promise.resolve(player.seek(start));
      }
      ready = shown.then(function () {
        root.dataset.ready = "1";
      }, function (err) {
        root.dataset.ready = "error";
        console.error("fixcast: player", err);
      });
    }
    window.fixcastPlayer = player;
    // Once the viewer has moved (a seek, a chapter), the big play button would only
    // hide the screen they moved to.
    player.addEventListener("seeked", function () {
      box.classList.add("moved");
    });
    player.addEventListener("play", function () {
      box.classList.add("moved");
    });

    function current(seq) {
      rows.forEach(function (r) {
        r.classList.toggle("current", r.dataset.seq === String(seq));
      });
    }

    // The selected command: highlighted in the list, its output in the panel.
    var outputGen = 0;
    function select(seq) {
      root.dataset.hit = seq;
      rows.forEach(function (r) {
        r.classList.toggle("hit", r.dataset.seq === String(seq));
      });
      var gen = ++outputGen;
      fetch(api + "/commands/" + encodeURIComponent(seq))
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (c) {
          if (!c || gen !== outputGen) return;
          document.getElementById("hit-command").textContent = c.command;
          document.getElementById("hit-text").textContent = c.output || "(no output)";
          document.getElementById("hit-output").hidden = false;
        })
        .catch(function () {});
    }

    function bindRow(r) {
      r.querySelector("button.seek").addEventListener("click", function () {
        var t = playTime(parseFloat(r.dataset.start) || 0);
        current(r.dataset.seq);
        select(r.dataset.seq);
        history.replaceState(null, "", "?t=" + t.toFixed(2) + "&hit=" + r.dataset.seq);
        ready.then(function () {
          return player.seek(t);
        }).then(function () {
          return player.play();
        });
      });
      var b = r.querySelector("button.mark-fix");
      if (b) b.addEventListener("click", function () {
        var unmark = r.classList.contains("fix");
        patch({ fix_seq: unmark ? null : parseInt(b.dataset.seq, 10) })
          .then(function () {
            location.reload();
          })
          .catch(function (err) {
            b.textContent = "failed: " + err.message;
          });
      });
    }
    rows.forEach(bindRow);

    // A live session's commands as they are cut: new rows appended, a row whose command
    // finished since (its exit status, duration) drawn again.
    function updateCommands(cmds) {
      var count = root.querySelector(".commands .count");
      if (count) count.textContent = String(cmds.length);
      var empty = list.querySelector("li.empty");
      if (empty && cmds.length) empty.remove();
      cmds.forEach(function (c, i) {
        var key = JSON.stringify([c.command, c.exit, c.end]);
        var old = rows[i];
        if (old && old.dataset.key === key) return;
        if (old && !old.dataset.key && old.dataset.seq === String(c.seq) && i < cmds.length - 1) {
          old.dataset.key = key;
          return;
        }
        var row = commandRow(c);
        row.dataset.key = key;
        if (old) {
          row.className = old.className;
          old.replaceWith(row);
          rows[i] = row;
        } else {
          list.appendChild(row);
          rows.push(row);
        }
        bindRow(row);
      });
    }

    // Follow playback in the list.
    if (!live) timers.push(setInterval(function () {
      var p = player.getCurrentTime && player.getCurrentTime();
      Promise.resolve(p).then(function (now) {
        if (typeof now !== "number") return;
        var at = null;
        rows.forEach(function (r) {
          if (playTime(parseFloat(r.dataset.start) || 0) <= now + 0.01) at = r.dataset.seq;
        });
        if (at !== null) current(at);
      });
    }, 700));

    // The command on screen first (the hit, else the poster's) in view in the list;
    // only the list scrolls, not the page (the player stays in view).
    function reveal(seq) {
      var row = document.getElementById("cmd-" + seq);
      var aside = root.querySelector("aside.commands");
      if (row && aside) aside.scrollTop = row.offsetTop - aside.offsetTop - aside.clientHeight / 3;
    }
    var hit = root.dataset.hit;
    if (hit) {
      reveal(hit);
      select(hit);
    } else if (opts.poster && root.dataset.posterSeq) {
      current(root.dataset.posterSeq);
      reveal(root.dataset.posterSeq);
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

    // The tag chips as saved.
    function showTags(tags) {
      var box = root.querySelector(".head .tags");
      if (!box) return;
      box.textContent = "";
      tags.forEach(function (t) {
        var a = el("a", "tag", t);
        a.href = "/?tag=" + encodeURIComponent(t);
        box.appendChild(a);
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
          showTags(s.tags || []);
          var notes = root.querySelector(".head .notes");
          if (s.notes && !notes) {
            notes = el("div", "notes");
            root.querySelector("details.edit").after(notes);
          }
          if (notes) {
            if (s.notes) notes.textContent = s.notes;
            else notes.remove();
          }
          status.textContent = "Saved";
        })
        .catch(function (err) {
          status.textContent = "Not saved: " + err.message;
        });
    });
  }

  // Last: the constants above are set by now.
  var first = document.getElementById("session");
  if (first) initSession(first);
})();
