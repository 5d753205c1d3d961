// Measures how the playground copes with a 100,000-event trace: time to the answer and
// the longest gap between animation frames on the page's main thread while the Web
// Worker checks. A measurement for BENCHMARKS.md, not a pass/fail test.
//
// usage: node responsiveness.mjs SYSCAGE_BINARY [EVENTS]
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";

const syscage = process.argv[2];
const n = Number(process.argv[3] || 100000);
const names = ["read", "write", "openat", "close", "mmap", "futex", "ptrace", "unshare", "socket", "ioctl"];
let seed = 1;
const rnd = (m) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % m);
let trace = "";
for (let i = 0; i < n; i++) {
  trace += `{"syscall":"${names[rnd(names.length)]}","args":[${rnd(50)},${rnd(10)}],"pid":${100 + (i % 7)}}\n`;
}

const server = spawn(syscage, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) => server.stdout.on("data", (d) => { const m = String(d).match(/http:\/\/\S+/); if (m) resolve(m[0]); }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage();
await page.goto(url);
await page.waitForFunction(() => document.body.dataset.idle === "true", null, { timeout: 60000 });
// Putting megabytes into a <textarea> costs the browser a layout; that is the paste, not
// the check: do it first and measure from the input event on.
await page.$eval("#trace-text", (t, v) => { t.value = v; }, trace);
await page.waitForTimeout(1500);
await page.evaluate(() => {
  window.maxGap = 0;
  let last = performance.now();
  const tick = (t) => { window.maxGap = Math.max(window.maxGap, t - last); last = t; if (!window.stopTick) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
});
const t0 = Date.now();
await page.$eval("#trace-text", (t) => t.dispatchEvent(new Event("input")));
await page.waitForFunction(() => document.body.dataset.idle === "true", null, { timeout: 300000 });
const ms = Date.now() - t0;
const gap = await page.evaluate(() => { window.stopTick = true; return window.maxGap; });
console.log(`${n} events (${(trace.length / 1e6).toFixed(1)} MB): answer after ${ms} ms; longest main-thread frame gap ${Math.round(gap)} ms; ${await page.textContent("#status")}`);
await browser.close();
server.kill();
