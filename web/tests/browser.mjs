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
  // Home → search `chattr` → click the hit → the player shows that command's output.
  async search(expect) {
    await page.goto(base);
    await page.keyboard.press("/");
    check(await page.evaluate(() => document.activeElement?.id === "q"), "/ focuses the search box");
    await page.keyboard.type("chattr");
    await Promise.all([page.waitForURL(/\/search\?/), page.keyboard.press("Enter")]);
    const hit = page.locator("li.hit a.cmdline").first();
    check((await hit.innerText()).includes("chattr"), "first hit is the chattr command");
    await Promise.all([page.waitForURL(/\/s\/.*hit=/), hit.click()]);
    await waitScreen(expect);
    const t = await page.evaluate(() => window.fixcastPlayer.getCurrentTime());
    const start = await page.evaluate(() => parseFloat(document.querySelector("li.cmd.hit").dataset.start));
    await page.waitForFunction(() => !document.getElementById("hit-output").hidden, null, { timeout: 10000 });
    const output = await page.locator("#hit-text").innerText();
    check(output.includes(expect), "the hit's output is shown: " + output);
    const later = await screen();
    return { time: t, start, screenHasOutput: later.includes(expect), highlighted: await page.locator("li.cmd.hit").count() };
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
  await page.goto(base);
  await page.waitForSelector("#live-now:not([hidden]) a.title", { timeout: 5000 });
  await page.goto(base + sessionPath);
  await waitScreenOf(page, prompt);
  await step("typing");
  const t0 = Date.now();
  await waitScreenOf(page, expect);
  const latency = Date.now() - t0;
  const late = await context.newPage();
  late.on("pageerror", (e) => problems.push("late pageerror: " + e.message));
  const t1 = Date.now();
  await late.goto(base + sessionPath);
  await waitScreenOf(late, expect, 10000);
  const lateMs = Date.now() - t1;
  await page.waitForFunction(() => /2 viewers/.test(document.getElementById("viewers")?.textContent || ""), null, { timeout: 5000 });
  await late.close();
  await step("ending");
  await page.waitForFunction(
    () => document.getElementById("session")?.dataset.live === "" && document.getElementById("session")?.dataset.ready === "1",
    null, { timeout: 20000 },
  );
  const commands = await page.evaluate(() => Array.from(document.querySelectorAll("li.cmd .line")).map((e) => e.textContent));
  return { latency, lateMs, commands, url: page.url() };
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
