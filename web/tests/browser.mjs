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
      await page.goto(base + sessionPath, { waitUntil: "commit" });
      await waitScreen(expect, 120000);
      times.push(Date.now() - t0);
    }
    return { times, screen: (await screen()).trim().split("\n").slice(-3).join("\n") };
  },
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
  console.log(JSON.stringify({ error: String(e.stack || e), problems, screen: shot }));
  code = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
