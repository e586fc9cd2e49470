// Browser checks of `fixcast serve`, driven by tests/web.rs (and the web benchmark):
// node browser.mjs SCENARIO BASE_URL [ARGS...]. Prints one JSON line; exits 1 on failure.
// playwright-core drives the system Chromium (/usr/bin/chromium or $CHROMIUM).
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [scenario, base, ...args] = process.argv.slice(2);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fixcast-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
// What the pages ask asciinema-player for: every create() call's source and options.
await context.addInitScript(() => {
  let ap;
  window.__created = [];
  Object.defineProperty(window, "AsciinemaPlayer", {
    configurable: true,
    get() { return ap; },
    set(v) {
      ap = Object.assign({}, v, {
        create(src, el, opts) {
          window.__created.push(JSON.parse(JSON.stringify({ src, opts: opts || {} })));
          return v.create(src, el, opts);
        },
      });
    },
  });
});
const page = context.pages()[0] || (await context.newPage());
const problems = [];
page.on("pageerror", (e) => problems.push("pageerror: " + e.message));
const consoleLog = [];
page.on("console", (m) => { if (consoleLog.length < 50) consoleLog.push(m.type() + ": " + m.text()); });
page.on("dialog", async (d) => { problems.push("dialog: " + d.message()); await d.dismiss(); });

const screen = () => page.evaluate(() => document.querySelector(".ap-term-text")?.innerText ?? "");
async function waitScreen(text, timeout = 20000) {
  await page.waitForFunction(
    (t) => (document.querySelector(".ap-term-text")?.innerText ?? "").includes(t),
    text, { timeout, polling: 10 },
  );
}
function check(cond, msg) { if (!cond) throw new Error(msg); }

const scenarios = {
  // A standalone HTML export opened from disk: BASE is its file:// URL. Plays from a
  // chapter and from a runbook link, never asks the network, screenshots wide and narrow.
  async standalone(shots, chapterText, chapterScreen, linkScreen) {
    const requests = [];
    page.on("request", (r) => {
      if (!/^(file|data|blob):/.test(r.url())) requests.push(r.url());
    });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(base);
    await page.waitForSelector("#player .ap-player", { timeout: 20000 });
    const chapters = await page.locator("#chapters li").count();
    const commands = await page.evaluate(() => Array.from(document.querySelectorAll("#chapters .line")).map((e) => e.textContent));
    const title = await page.evaluate(() => document.getElementById("title").textContent);
    const li = page.locator("#chapters li", { hasText: chapterText }).first();
    const start = parseFloat(await li.getAttribute("data-start"));
    await li.locator("button").click();
    await waitScreen(chapterScreen);
    const time = await page.evaluate(() => window.fixcastPlayer.getCurrentTime());
    await page.waitForFunction(() => document.querySelectorAll("#player .ap-marker-container").length > 0, null, { timeout: 10000 });
    const markers = await page.locator("#player .ap-marker-container").count();
    await page.waitForTimeout(600);
    const current = await page.locator("#chapters li.current").count();
    await page.screenshot({ path: path.join(shots, "wide-1400x900.png") });
    const chapterScreenText = await screen();
    // A runbook link: its command's moment in the player.
    const link = page.locator("#runbook a[data-start]").first();
    const linkStart = parseFloat(await link.getAttribute("data-start"));
    await link.click();
    await waitScreen(linkScreen);
    const linkTime = await page.evaluate(() => window.fixcastPlayer.getCurrentTime());
    await page.setViewportSize({ width: 400, height: 800 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, "narrow-400x800.png") });
    const runbook = await page.locator("#runbook").innerText();
    const pwned = await page.evaluate(() => window.__pwned || 0);
    const injected = await page.evaluate(() => document.querySelectorAll("main img, main script, main svg, header img, #chapters img").length);
    return { chapters, markers, commands, title, start, time, current, chapterScreen: chapterScreenText, linkStart, linkTime, runbook, pwned, injected, requests };
  },
  // Home → search `chattr` → click the hit → the player shows that command's line and
  // the panel its output.
  async search(onScreen, expect) {
    await page.goto(base);
    await page.keyboard.press("/");
    check(await page.evaluate(() => document.activeElement?.id === "q"), "/ focuses the search box");
    await page.keyboard.type("chattr");
    await Promise.all([page.waitForURL(/\/search\?/), page.keyboard.press("Enter")]);
    const hit = page.locator("li.hit a.cmdline").first();
    check((await hit.innerText()).includes("chattr"), "first hit is the chattr command");
    await Promise.all([page.waitForURL(/\/s\/.*hit=/), hit.click()]);
    await waitScreen(onScreen);
    const t = await page.evaluate(() => window.fixcastPlayer.getCurrentTime());
    const start = await page.evaluate(() => parseFloat(document.querySelector("li.cmd.hit").dataset.start));
    await page.waitForFunction(() => !document.getElementById("hit-output").hidden, null, { timeout: 10000 });
    const output = await page.locator("#hit-text").innerText();
    check(output.includes(expect), "the hit's output is shown: " + output);
    return { time: t, start, highlighted: await page.locator("li.cmd.hit").count() };
  },
  // `fixcast demo`'s home: search, open the first hit, see `expect` in the player; a
  // screenshot of that page to `shot` when given (the README's picture).
  async demo(query, expect, shot) {
    await page.setViewportSize({ width: 1100, height: 720 });
    await page.goto(base + "search?q=" + encodeURIComponent(query));
    const hit = page.locator("li.hit a.cmdline").first();
    const line = await hit.innerText();
    await Promise.all([page.waitForURL(/\/s\/.*hit=/), hit.click()]);
    // The page opens paused at the command's start; Play, as a reader would, until
    // its output is on the screen.
    await page.waitForFunction(() => document.getElementById("session")?.dataset.ready, null, { timeout: 20000 });
    await page.locator(".ap-playback-button").first().click({ timeout: 5000 })
      .catch(() => page.evaluate(() => window.fixcastPlayer.play()));
    await waitScreen(expect);
    await page.evaluate(() => window.fixcastPlayer.pause());
    const title = await page.locator("#title").innerText();
    if (shot) {
      // From the top: the title and note, the player, the command list.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(400);
      await page.screenshot({ path: shot });
    }
    return { hit: line, title, screen: await screen(), url: page.url() };
  },
  // A page whose title, commands and output are an XSS corpus.
  async xss(sessionPath) {
    await page.goto(base + sessionPath);
    await page.waitForFunction(() => document.getElementById("session")?.dataset.ready, null, { timeout: 20000 });
    await page.waitForFunction(() => !document.getElementById("hit-output").hidden, null, { timeout: 10000 });
    await page.waitForTimeout(300);
    const r = await page.evaluate(() => ({
      pwned: window.__pwned || 0,
      title: document.getElementById("title").textContent,
      commands: Array.from(document.querySelectorAll("li.cmd .line")).map((e) => e.textContent),
      output: document.getElementById("hit-text").textContent,
      injected: document.querySelectorAll("main img, main script, main a[href^='javascript:']").length,
    }));
    r.screen = await screen();
    await page.goto(base + "search?q=" + encodeURIComponent("pwned"));
    r.results = await page.locator("main").innerText();
    r.pwned = Math.max(r.pwned, await page.evaluate(() => window.__pwned || 0));
    return r;
  },
  // A token server: a wrong token is refused, the right one signs the browser in.
  async token(token) {
    const wrong = await page.goto(base + "?token=wrong-" + token);
    const noToken = await (await page.goto(base + "api/sessions")).status();
    const right = await page.goto(base + "?token=" + encodeURIComponent(token));
    const api = await page.evaluate(async () => (await fetch("/api/sessions")).status);
    return { wrong: wrong.status(), none: noToken, right: right.status(), url: page.url(), api };
  },
  // Open a session at a time; how long until `expect` is on screen.
  async open(sessionPath, expect, repeat = "1") {
    const times = [];
    for (let i = 0; i < parseInt(repeat, 10); i++) {
      await page.goto("about:blank");
      const t0 = Date.now();
      // The first open of a long session makes the server cut the whole recording into
      // commands before the page's first byte (about 25 s for 200 MB in a debug build,
      // more on a loaded machine): give the navigation the same limit as the screen, not
      // playwright's default 30 s.
      await page.goto(base + sessionPath, { waitUntil: "commit", timeout: 120000 });
      await waitScreen(expect, 120000);
      times.push(Date.now() - t0);
    }
    return { times, screen: (await screen()).trim().split("\n").slice(-3).join("\n") };
  },
};

// Screenshots for a person to look at: SHOTS_DIR/NAME.png, when the test gives a dir.
async function shot(p, name) {
  const dir = process.env.FIXCAST_SHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await p.screenshot({ path: path.join(dir, name + ".png") });
}

// Where things are on the page, for the layout checks.
const layout = () => page.evaluate(() => {
  const rect = (s) => {
    const e = document.querySelector(s);
    if (!e) return null;
    const r = e.getBoundingClientRect();
    const visible = !!(e.offsetWidth || e.offsetHeight) && getComputedStyle(e).visibility !== "hidden";
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, visible };
  };
  const term = document.querySelector(".ap-term");
  const ap = document.querySelector("div.ap-player");
  return {
    width: window.innerWidth,
    h1: rect("main h1"),
    player: rect("div.ap-player"),
    controls: rect("div.ap-control-bar"),
    button: rect(".search button"),
    fontPx: term ? parseFloat(getComputedStyle(term).fontSize) : null,
    edge: ap ? getComputedStyle(ap).boxShadow : null,
    bg: getComputedStyle(document.body).backgroundColor,
  };
});
const waitReady = () => page.waitForFunction(
  () => ["1", "live"].includes(document.getElementById("session")?.dataset.ready), null, { timeout: 20000 },
);
const overlayShown = () => page.evaluate(() => {
  const o = document.querySelector(".ap-overlay-start");
  return !!o && getComputedStyle(o).display !== "none" && o.getBoundingClientRect().height > 0;
});

// The pages at a desk's and a phone's size: home, results, a session opened with no
// time (its poster), a chapter click, saving tags, dark mode. Screenshots of each.
scenarios.pages = async function (id, query) {
  const r = {};
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(base);
  r.home = await layout();
  await shot(page, "home-1400x900");
  await page.goto(base + "search?q=" + encodeURIComponent(query));
  r.results = await layout();
  r.groups = await page.locator("li.group").count();
  await shot(page, "search-1400x900");

  await page.goto(base + "s/" + id);
  await waitReady();
  await page.waitForTimeout(500);
  r.poster = {
    seq: await page.evaluate(() => document.querySelector("li.cmd.fix")?.dataset.seq ?? null),
    screen: await screen(),
    overlay: await overlayShown(),
    time: await page.evaluate(() => window.fixcastPlayer.getCurrentTime()),
  };
  r.session = await layout();
  await shot(page, "session-1400x900");
  // A seek while paused: the screen it moved to, with no play button over it.
  await page.evaluate(() => window.fixcastPlayer.seek(3));
  await page.waitForTimeout(500);
  r.overlayAfterSeek = await overlayShown();

  // "mark as the fix": only on the row pointed at or selected.
  // A row just after the fix, which the list has scrolled into view.
  const plain = page.locator("li.cmd.fix ~ li.cmd:not(.current):not(.hit)").nth(2);
  const markVisible = (loc) => loc.locator("button.mark-fix").evaluate((b) => getComputedStyle(b).visibility);
  await page.mouse.move(0, 0);
  r.markIdle = await markVisible(plain);
  await plain.hover();
  r.markHover = await markVisible(plain);
  // Shown, it covers none of the row's command line (a long one wraps under its corner).
  r.markCovers = await plain.evaluate((row) => {
    const b = row.querySelector("button.mark-fix").getBoundingClientRect();
    return Array.from(row.querySelector(".line").getClientRects())
      .some((l) => l.left < b.right && b.left < l.right && l.top < b.bottom && b.top < l.bottom);
  });

  // A chapter click: highlight and "Output of" follow it.
  const row = page.locator("li.cmd").nth(1);
  const seq = await row.getAttribute("data-seq");
  const line = await row.locator(".line").innerText();
  await row.locator("button.seek").click();
  await page.waitForFunction(
    (s) => document.querySelector("li.cmd.hit")?.dataset.seq === s && document.getElementById("hit-command").textContent !== "",
    seq, { timeout: 5000 },
  ).catch(() => {});
  r.chapter = {
    seq,
    url: page.url(),
    hit: await page.evaluate(() => Array.from(document.querySelectorAll("li.cmd.hit")).map((e) => e.dataset.seq)),
    want: line,
    shown: await page.evaluate(() => document.getElementById("hit-command").textContent),
  };

  // Saving tags: the chips follow without a reload.
  await page.locator("details.edit summary").click();
  await page.locator("#edit-form input[name=tags]").fill("alpha, beta-2");
  await page.locator("#edit-form button[type=submit]").click();
  await page.waitForFunction(() => document.getElementById("edit-status").textContent === "Saved", null, { timeout: 5000 });
  r.tags = await page.evaluate(() => Array.from(document.querySelectorAll(".head .tags a.tag")).map((a) => a.textContent));

  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(base + "s/" + id);
  await waitReady();
  await page.waitForTimeout(300);
  r.dark = await layout();
  await shot(page, "session-1400x900-dark");
  await page.emulateMedia({ colorScheme: "light" });

  await page.setViewportSize({ width: 400, height: 800 });
  await page.goto(base);
  r.homeNarrow = await layout();
  await shot(page, "home-400x800");
  await page.goto(base + "search?q=" + encodeURIComponent(query));
  await shot(page, "search-400x800");
  await page.goto(base + "s/" + id);
  await waitReady();
  await page.waitForTimeout(300);
  r.narrow = await layout();
  await shot(page, "session-400x800");
  return r;
};

// How wide the page is against its window, and which boxes stick out past its right
// edge (what a phone would scroll sideways for).
const overflow = () => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    // Inside a box that scrolls or clips by itself, sticking out is that box's business.
    let p = e.parentElement, clipped = false;
    for (; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o !== "visible") { clipped = true; break; }
    }
    if (!clipped && r.width > 0 && r.right > width + 0.5) {
      out.push((e.id ? "#" + e.id : e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.split(" ")[0] : "")) + " " + Math.round(r.right));
    }
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 12) };
});

// The player page (with its "Output of" panel), the results and the home at a desk's
// size and a phone's: how wide each is against its window. Screenshots of each.
scenarios.fits = async function (sessionPath, query) {
  const r = {};
  for (const [w, h] of [[1400, 900], [400, 800]]) {
    const size = w + "x" + h;
    await page.setViewportSize({ width: w, height: h });
    await page.goto(base + sessionPath);
    await waitReady();
    await page.waitForFunction(() => !document.getElementById("hit-output").hidden, null, { timeout: 10000 });
    await page.waitForTimeout(500);
    r["session-" + size] = { ...(await overflow()), ...(await layout()) };
    // The player's own box (a terminal too wide for it scrolls inside) and the panel.
    Object.assign(r["session-" + size], await page.evaluate(() => {
      const at = (id) => {
        const b = document.getElementById(id).getBoundingClientRect();
        return { left: b.left, right: b.right, width: b.width };
      };
      return { box: at("player"), output: at("hit-output") };
    }));
    // A terminal wider than its box: all of it in reach by scrolling the box, with the
    // control bar still over the box after a scroll to the terminal's right end.
    r["session-" + size].reach = await page.evaluate(async () => {
      const box = document.getElementById("player");
      const term = document.querySelector("div.ap-term").getBoundingClientRect().width;
      const scrollWidth = box.scrollWidth;
      box.scrollLeft = scrollWidth;
      await new Promise((r) => setTimeout(r, 200));
      const bar = document.querySelector("div.ap-control-bar").getBoundingClientRect();
      const b = box.getBoundingClientRect();
      box.scrollLeft = 0;
      return { term, scrollWidth, barLeft: bar.left - b.left, barRight: bar.right - b.right };
    });
    await shot(page, "fits-session-" + size);
    await page.goto(base + "search?q=" + encodeURIComponent(query));
    r["results-" + size] = await overflow();
    await shot(page, "fits-results-" + size);
    await page.goto(base);
    r["home-" + size] = await overflow();
    await shot(page, "fits-home-" + size);
  }
  return r;
};

// The player page opened at a desk's size, the window made a phone's, a desk's again,
// then lower: each time the player is laid out as on a page opened at that size, in
// place (the same player, the recording not fetched again, at the same moment). `fresh`:
// the page opened at each size; `narrow`, `wide`, `low`: after each resize.
// Screenshots of each.
scenarios.resize = async function (sessionPath) {
  const fetched = [];
  page.on("request", (r) => {
    if (/\/api\/sessions\/[^/]+\/(segments|cast)/.test(r.url())) fetched.push(r.url());
  });
  const fit = () => page.evaluate(() => {
    const at = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
    };
    const box = document.getElementById("player");
    const term = document.querySelector("div.ap-term");
    return {
      fit: box.dataset.fit ?? null,
      fontPx: parseFloat(getComputedStyle(term).fontSize),
      box: at(box),
      player: at(document.querySelector("div.ap-player")),
      bar: at(document.querySelector("div.ap-control-bar")),
      height: window.innerHeight,
      term: term.getBoundingClientRect().width,
      boxScrollWidth: box.scrollWidth,
      width: document.documentElement.clientWidth,
      scrollWidth: document.documentElement.scrollWidth,
      time: window.fixcastPlayer.getCurrentTime(),
      screen: document.querySelector(".ap-term-text")?.innerText ?? "",
      created: window.__created.length,
    };
  });
  // Past the page's wait for the window to stop changing size, and the player's own.
  const settle = () => page.waitForTimeout(700);
  const fresh = {};
  for (const [w, h] of [[400, 800], [1400, 600], [1400, 900]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(base + sessionPath);
    await waitReady();
    await settle();
    fresh[w + "x" + h] = await fit();
    await shot(page, "resize-fresh-" + w + "x" + h);
  }
  const loaded = fetched.length;
  await page.setViewportSize({ width: 400, height: 800 });
  await settle();
  const narrow = await fit();
  await shot(page, "resize-narrow-400x800");
  await page.setViewportSize({ width: 1400, height: 900 });
  await settle();
  const wide = await fit();
  await shot(page, "resize-wide-1400x900");
  await page.setViewportSize({ width: 1400, height: 600 });
  await settle();
  const low = await fit();
  await shot(page, "resize-low-1400x600");
  return { fresh, narrow, wide, low, fetched: fetched.slice(loaded) };
};

// Steps of a scenario driven together with the test: prints `STEP name`, waits for a
// line on stdin (the test does its part: types into the recorded shell, ends it).
import readline from "node:readline";
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function step(name) {
  console.log("STEP " + name);
  await lines.next();
}
const screenOf = (p) => p.evaluate(() => document.querySelector(".ap-term-text")?.innerText ?? "");
function waitScreenOf(p, text, timeout = 20000) {
  return p.waitForFunction(
    (t) => (document.querySelector(".ap-term-text")?.innerText ?? "").includes(t),
    text, { timeout, polling: 50 },
  );
}

// A live session: the page plays it as it happens, a late second page sees the current
// screen at once, and the page becomes the replay when the recording ends.
scenarios.live = async function (sessionPath, prompt, expect) {
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(base);
  await page.waitForSelector("#live-now:not([hidden]) a.title", { timeout: 5000 });
  await page.goto(base + sessionPath);
  await waitScreenOf(page, prompt);
  await step("typing");
  const t0 = Date.now();
  await waitScreenOf(page, expect);
  const latency = Date.now() - t0;
  // The command list and the duration keep up with the recording.
  const listed = await page.waitForFunction(
    () => Array.from(document.querySelectorAll("li.cmd .line")).some((e) => e.textContent.includes("echo browser-")),
    null, { timeout: 5000 },
  ).then(() => Date.now() - t0, () => null);
  const seconds = () => page.evaluate(() => {
    const m = /([0-9.]+) s/.exec(document.getElementById("duration")?.textContent || "");
    return m ? parseFloat(m[1]) : null;
  });
  const d1 = await seconds();
  await page.waitForTimeout(2500);
  const d2 = await seconds();
  const created = await page.evaluate(() => window.__created);
  await shot(page, "live-1400x900");
  const late = await context.newPage();
  await late.setViewportSize({ width: 400, height: 800 });
  late.on("pageerror", (e) => problems.push("late pageerror: " + e.message));
  const t1 = Date.now();
  await late.goto(base + sessionPath);
  await waitScreenOf(late, expect, 10000);
  const lateMs = Date.now() - t1;
  await late.waitForTimeout(300);
  await shot(late, "live-400x800");
  await page.waitForFunction(() => /2 viewers/.test(document.getElementById("viewers")?.textContent || ""), null, { timeout: 5000 });
  await late.close();
  const watching = await page.evaluate(() => window.fixcastPlayer.getCurrentTime());
  await step("ending");
  await page.waitForFunction(
    () => document.getElementById("session")?.dataset.live === "" && document.getElementById("session")?.dataset.ready === "1",
    null, { timeout: 20000 },
  );
  const commands = await page.evaluate(() => Array.from(document.querySelectorAll("li.cmd .line")).map((e) => e.textContent));
  // The replay goes on from where the viewer was, not from a blank 0:00.
  await page.waitForTimeout(300);
  const replay = { at: await page.evaluate(() => window.fixcastPlayer.getCurrentTime()), screen: await screen() };
  return { latency, lateMs, commands, url: page.url(), listed, duration: [d1, d2], created, watching, replay };
};

let code = 0;
try {
  const fn = scenarios[scenario];
  if (!fn) throw new Error("unknown scenario " + scenario);
  const result = await fn(...args);
  result.problems = problems;
  console.log(JSON.stringify(result));
} catch (e) {
  let shot = "";
  try { shot = await screen(); } catch {}
  console.log(JSON.stringify({ error: String(e.stack || e), problems, screen: shot, console: consoleLog }));
  code = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
