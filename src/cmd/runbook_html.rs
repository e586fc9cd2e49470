//! `fixcast export --format html`: one standalone page that plays the session, for an
//! incident ticket. Everything is inline (asciinema-player's script and style sheet, the
//! recording as asciicast v3, a chapter per command) and the page opens from disk with
//! no server and no network. Under the player, the runbook of `--format md` (title,
//! tags, notes, each failure as symptom / investigation / fix / verification), each
//! command linking to its moment in the player.
//!
//! Every string from the session (title, notes, command lines, output) goes through
//! [`text`]; the recording sits in a data block with no `<` left in it (see
//! [`cast_block`]). Neither holds `http://` or `https://`, even where the session
//! printed a URL: the page references nothing outside itself, and a scan of it for
//! URLs (a reviewer's, a ticket system's, a mail filter's) finds none.

use std::collections::HashMap;
use std::fmt::Write;

use fixcast_sessions::{CommandRecord, FixRecord, SessionMeta};
use fixcast_web::esc;

use super::commands::format_offset;
use super::fixes::play_at;
use super::runbook::{episodes, OUTPUT_LINES};

/// The page's own style: the player and its chapters side by side, stacked when narrow.
const STYLE: &str = r##"
:root { color-scheme: light dark; --fg: #1d2127; --bg: #fbfbfa; --dim: #5d6570; --line: #d8dbe0; --hl: #e6efff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e6ea; --bg: #15181c; --dim: #9aa3ad; --line: #343a42; --hl: #23324d; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 20px 40px; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.5em; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.2em; margin: 28px 0 8px; overflow-wrap: anywhere; }
h3 { font-size: 1em; margin: 16px 0 6px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.facts { color: var(--dim); margin: 0 0 14px; overflow-wrap: anywhere; }
#top { display: flex; gap: 16px; align-items: flex-start; }
#player { flex: 1 1 auto; min-width: 0; }
#chapters { flex: 0 0 300px; max-height: 70vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
#chapters h2 { margin: 0; padding: 8px 10px; font-size: 1em; border-bottom: 1px solid var(--line); }
#chapters ol { list-style: none; margin: 0; padding: 0; }
#chapters button { display: flex; gap: 8px; width: 100%; padding: 5px 10px; border: 0; background: none; color: inherit; font: inherit; text-align: left; cursor: pointer; }
#chapters button:hover, #chapters button:focus-visible { background: var(--hl); }
#chapters li.current button { background: var(--hl); font-weight: 600; }
#chapters .t { color: var(--dim); font-variant-numeric: tabular-nums; flex: none; }
#chapters .line { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#chapters .failed .t { color: #c0392b; }
.cmd { margin: 0 0 12px; }
.cmd pre { margin: 0; padding: 6px 10px; white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line); }
.cmd pre.line { border-radius: 6px 6px 0 0; font-weight: 600; }
.cmd pre.line a { color: inherit; text-decoration: none; }
.cmd pre.line a:hover { text-decoration: underline; }
.cmd pre.out { border-top: 0; color: var(--dim); }
.cmd .exit { margin: 2px 0 0; color: var(--dim); font-size: 13px; }
.notes p { white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 32px; color: var(--dim); font-size: 13px; }
@media (max-width: 800px) { #top { flex-direction: column; align-items: stretch; } #chapters { flex: none; width: 100%; max-height: 40vh; } body { padding: 10px; } }
"##;

/// The page's script: the player over the inline recording, a marker per command, and
/// seeking from the chapter list and the runbook.
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var chapters = Array.prototype.slice.call(document.querySelectorAll("#chapters li"));
  var at = function (el) { return parseFloat(el.getAttribute("data-start")) || 0; };
  var markers = chapters.map(function (li) {
    return [at(li), li.querySelector(".line").textContent.split("\n")[0]];
  });
  var el = document.getElementById("player");
  // Times here are recording times, as `fixcast play --at` reads them, so the player
  // keeps every pause (an idle limit would move the chapters off their commands).
  var player = window.AsciinemaPlayer.create(
    { data: document.getElementById("cast").textContent },
    el,
    { fit: "width", preload: true, markers: markers, idleTimeLimit: 1e9, terminalFontSize: "small" }
  );
  window.fixcastPlayer = player;
  function current(seq) {
    chapters.forEach(function (li) { li.classList.toggle("current", li.getAttribute("data-seq") === seq); });
  }
  function seek(t) {
    return Promise.resolve(player.seek(t)).then(function () { return player.play(); });
  }
  document.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target.closest("[data-start]") : null;
    if (!target) return;
    e.preventDefault();
    current(target.getAttribute("data-seq"));
    if (target.closest("#runbook")) el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    seek(at(target));
  });
  // Follow playback in the chapter list.
  setInterval(function () {
    Promise.resolve(player.getCurrentTime()).then(function (now) {
      if (typeof now !== "number") return;
      var seq = null;
      chapters.forEach(function (li) { if (at(li) <= now + 0.05) seq = li.getAttribute("data-seq"); });
      if (seq !== null) current(seq);
    });
  }, 500);
  // `#t=42.5` opens the page at that moment.
  var m = /^#t=([0-9.]+)$/.exec(location.hash);
  if (m) seek(parseFloat(m[1]) || 0);
})();
"##;

/// The page. `cast` is the recording as asciicast v3 text; `js` and `css` the player's,
/// made fit for inlining by [`fixcast_web::player_inline`].
pub fn html(
    meta: &SessionMeta,
    commands: &[CommandRecord],
    records: &[FixRecord],
    cast: &str,
    (js, css): (&str, &str),
) -> String {
    let by_seq: HashMap<u32, &CommandRecord> = commands.iter().map(|c| (c.seq, c)).collect();
    let title = text(meta.display_title());
    let mut h = String::with_capacity(cast.len() + js.len() + css.len() + 64 * 1024);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · fixcast</title>\n<style>{css}</style>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<header>\n<h1 id=\"title\">{title}</h1>\n<p class=\"facts\">{}</p>\n</header>\n",
        facts(meta)
    );
    h.push_str("<div id=\"top\">\n<div id=\"player\"></div>\n");
    chapter_list(&mut h, commands, records);
    h.push_str("</div>\n<main id=\"runbook\">\n");
    if let Some(notes) = meta.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        let _ = writeln!(
            h,
            "<section class=\"notes\">\n<h2>Notes</h2>\n<p>{}</p>\n</section>",
            text(notes.trim())
        );
    }
    if records.is_empty() {
        h.push_str("<p>No command failed in this session.</p>\n");
    }
    for e in episodes(records, &by_seq) {
        let state = if e.unresolved { " (unresolved)" } else { "" };
        let _ = writeln!(
            h,
            "<section class=\"episode\">\n<h2>{}. <code>{}</code> failed{state}</h2>",
            e.number,
            text(e.first_line)
        );
        for part in e.parts {
            let note = part
                .note
                .map(|n| format!(" <span class=\"note\">({})</span>", text(&n)))
                .unwrap_or_default();
            let _ = writeln!(h, "<h3>{}{note}</h3>", part.name);
            for seq in part.seqs {
                if let Some(c) = by_seq.get(&seq) {
                    command_block(&mut h, meta.id.as_str(), c);
                }
            }
        }
        h.push_str("</section>\n");
    }
    let _ = writeln!(
        h,
        "</main>\n<footer>Recorded and exported by fixcast. The recording is inline, as \
         asciicast v3, in the element <code>#cast</code>.</footer>"
    );
    cast_block(&mut h, cast);
    let _ = write!(
        h,
        "<script>{js}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    h
}

/// Session id, host, start and tags, escaped.
fn facts(meta: &SessionMeta) -> String {
    let mut facts = vec![format!("session <code>{}</code>", text(meta.id.as_str()))];
    if !meta.host.is_empty() {
        facts.push(format!("host <code>{}</code>", text(&meta.host)));
    }
    if let Ok(started) = meta
        .started
        .format(&time::format_description::well_known::Rfc3339)
    {
        facts.push(format!("started {}", text(&started)));
    }
    if !meta.tags.is_empty() {
        let tags: Vec<String> = meta
            .tags
            .iter()
            .map(|t| format!("<code class=\"tag\">{}</code>", text(t)))
            .collect();
        facts.push(format!("tags {}", tags.join(", ")));
    }
    facts.join(" · ")
}

/// Text for element content and quoted attributes: escaped, and `://` written
/// `:&#47;&#47;` (the same text once parsed) so that no URL appears in the file.
fn text(s: &str) -> String {
    let escaped = esc(s);
    if escaped.contains("://") {
        escaped.replace("://", ":&#47;&#47;")
    } else {
        escaped
    }
}

/// The chapter list beside the player: a button per command that seeks to it.
fn chapter_list(h: &mut String, commands: &[CommandRecord], records: &[FixRecord]) {
    let _ = writeln!(
        h,
        "<nav id=\"chapters\" aria-label=\"commands\">\n<h2>Commands ({})</h2>\n<ol>",
        commands.len()
    );
    for c in commands {
        let failed = records.iter().any(|r| r.symptom == c.seq);
        let _ = writeln!(
            h,
            "<li data-seq=\"{seq}\" data-start=\"{start:.3}\"{class}><button type=\"button\" \
             data-seq=\"{seq}\" data-start=\"{start:.3}\" title=\"{line}\"><span class=\"t\">{at}</span>\
             <span class=\"line\">{line}</span></button></li>",
            seq = c.seq,
            start = c.start,
            class = if failed { " class=\"failed\"" } else { "" },
            at = format_offset(c.start),
            line = text(c.command.lines().next().unwrap_or_default()),
        );
    }
    h.push_str("</ol>\n</nav>\n");
}

/// One command of the runbook: its line (a link to its moment in the player), its
/// trimmed output, its exit status and the command that replays it in a terminal.
fn command_block(h: &mut String, id: &str, c: &CommandRecord) {
    let exit = c
        .exit
        .map_or_else(|| "exit ?".to_owned(), |e| format!("exit {e}"));
    let _ = writeln!(
        h,
        "<div class=\"cmd\"><pre class=\"line\"><a href=\"#t={start:.1}\" data-seq=\"{seq}\" \
         data-start=\"{start:.3}\">$ {line}</a></pre>",
        start = c.start,
        seq = c.seq,
        line = text(&c.command),
    );
    let lines: Vec<&str> = c.output.lines().collect();
    if !lines.is_empty() {
        let mut shown = lines[..lines.len().min(OUTPUT_LINES)].join("\n");
        if lines.len() > OUTPUT_LINES {
            let _ = write!(shown, "\n… {} more lines", lines.len() - OUTPUT_LINES);
        }
        let _ = writeln!(h, "<pre class=\"out\">{}</pre>", text(&shown));
    }
    let _ = writeln!(
        h,
        "<p class=\"exit\">{exit} · at {} · <code>{}</code></p></div>",
        format_offset(c.start),
        text(&play_at(id, c.start))
    );
}

/// The recording in a data block the page reads with `textContent`. Inside `<script>`
/// only `</script` and `<!--` mean anything to HTML, and both need a `<`: every `<`,
/// `>` and `&` of the recording is written as its JSON escape (`\u003c`…). Each line of
/// an asciicast is JSON, where these characters occur only inside strings, so the text
/// is still the same recording, with the same bytes once parsed. So is `://` written
/// `:\/\/` (`\/` is JSON's `/`): a URL the session printed is no URL in the file.
fn cast_block(h: &mut String, cast: &str) {
    // The header must be the block's first line: the player reads line 1 as it.
    h.push_str("<script type=\"application/x-asciicast\" id=\"cast\">");
    for (i, ch) in cast.char_indices() {
        match ch {
            '<' => h.push_str("\\u003c"),
            '>' => h.push_str("\\u003e"),
            '&' => h.push_str("\\u0026"),
            // `://` becomes `:\/\/`; no JSON escape ends in `:`, so each is a plain `/`.
            '/' if cast[..i].ends_with(':') || cast[..i].ends_with(":/") => h.push_str("\\/"),
            ch => h.push(ch),
        }
    }
    h.push_str("</script>\n");
}

#[cfg(test)]
mod tests {
    use super::cast_block;

    #[test]
    fn a_recording_cannot_end_its_block() {
        let cast = "{\"version\":3,\"term\":{\"cols\":80,\"rows\":24}}\n[0.1, \"o\", \"</script><!-- <b>&amp; https://x.example/a \\\\:/ C:/\"]\n";
        let mut h = String::new();
        cast_block(&mut h, cast);
        let inner = h
            .strip_prefix("<script type=\"application/x-asciicast\" id=\"cast\">")
            .and_then(|s| s.strip_suffix("</script>\n"))
            .unwrap();
        assert!(!inner.contains('<') && !inner.contains("://"), "{inner}");
        let line: serde_json::Value = serde_json::from_str(inner.lines().nth(1).unwrap()).unwrap();
        assert_eq!(
            line[2],
            "</script><!-- <b>&amp; https://x.example/a \\:/ C:/"
        );
    }
}
