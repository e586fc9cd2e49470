// fixcast-bench web: one timed open of a session page in a fresh headless Chromium.
// node web.mjs WEB_DIR URL MARKER TIMEOUT_MS [AGAIN]
// WEB_DIR holds node_modules/playwright-core (the project's web/); Chromium is
// /usr/bin/chromium or $CHROMIUM. Prints one JSON line: {ms, ttfbMs, dclMs, bytes,
// resources, slowest, screen, againMs} or {error}; exits 1 on failure. With AGAIN=1 the
// page is opened a second time in the same browser (its cache warm): `againMs`.
//
// `ms` is measured inside the page: performance.now() (0 = navigation start) when the
// marker first shows up in the player's terminal text (`.ap-term-text`), seen by a
// MutationObserver installed before any page script runs.
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [webDir, url, marker, timeoutArg, again] = process.argv.slice(2);
const timeout = parseInt(timeoutArg || "60000", 10);
const { chromium } = createRequire(path.join(webDir, "package.json"))("playwright-core");

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fixcast-bench-chromium-"));
let context;
const problems = [];
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => problems.push("pageerror: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("crash", () => problems.push("the page crashed"));
  await page.addInitScript((m) => {
    if (!location.protocol.startsWith("http")) return;
    const check = () => {
      if (window.__benchSeen) return;
      const el = document.querySelector(".ap-term-text");
      if (el && el.textContent.includes(m)) {
        window.__benchSeen = performance.now();
        obs.disconnect();
      }
    };
    const obs = new MutationObserver(check);
    obs.observe(document, { subtree: true, childList: true, characterData: true });
  }, marker);
  const open = async () => {
    await page.goto("about:blank");
    await page.goto(url, { waitUntil: "commit", timeout });
    const t0 = Date.now();
    try {
      // The marker, or the page giving up (app.js sets data-ready="error").
      await page.waitForFunction(
        () => window.__benchSeen || document.getElementById("session")?.dataset.ready === "error",
        null, { timeout, polling: 50 },
      );
    } catch (e) {
      throw new Error(`${String(e.message || e).split("\n")[0]} after ${Date.now() - t0} ms`);
    }
    if (!(await page.evaluate(() => window.__benchSeen))) {
      throw new Error(`the player failed after ${Date.now() - t0} ms`);
    }
    return page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource");
      const slowest = res.filter((e) => e.name.includes("/api/"))
        .reduce((a, e) => (!a || e.responseEnd > a.responseEnd ? e : a), null);
      return {
        ms: window.__benchSeen,
        ttfbMs: nav ? nav.responseStart : null,
        dclMs: nav ? nav.domContentLoadedEventEnd : null,
        bytes: res.reduce((n, e) => n + (e.encodedBodySize || 0), nav ? nav.encodedBodySize || 0 : 0),
        resources: res.length + 1,
        slowest: slowest ? `${new URL(slowest.name).pathname} ${Math.round(slowest.startTime)}-${Math.round(slowest.responseEnd)} ms` : "",
      };
    });
  };
  const r = await open();
  // The screen as text, to check it is the final one.
  r.screen = (await page.evaluate(() => document.querySelector(".ap-term-text")?.innerText ?? ""))
    .trim().split("\n").slice(0, 2).join("\n");
  if (again === "1") r.againMs = (await open()).ms;
  r.problems = problems;
  console.log(JSON.stringify(r));
} catch (e) {
  const why = String(e.message || e).split("\n")[0];
  console.log(JSON.stringify({ error: problems.length ? `${why} (${problems.join("; ").slice(0, 300)})` : why }));
} finally {
  try { if (context) await context.close(); } catch {}
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(0);
