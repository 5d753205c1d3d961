// End-to-end test of the playground: `syscage serve`, a real headless Chromium driven by
// playwright-core, and `syscage check --format json` on the same input as the oracle.
//
// usage: node playground.mjs SYSCAGE_BINARY SCREENSHOT_DIR
// Prints "N passed, M failed" and exits non-zero on any failure.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const syscage = process.argv[2];
const shots = process.argv[3] || join(here, "screenshots");
mkdirSync(shots, { recursive: true });
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";

let passed = 0, failed = 0;
function check(name, ok, detail = "") {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name} ${detail}`); }
}

const server = spawn(syscage, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let buf = "";
  server.stdout.on("data", (d) => {
    buf += d;
    const m = buf.match(/http:\/\/[^\s]+/);
    if (m) resolve(m[0]);
  });
  server.on("exit", (c) => reject(new Error("syscage serve exited with " + c)));
  setTimeout(() => reject(new Error("syscage serve did not print its URL")), 15000);
});

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const cspErrors = [];
let page = null;
try {
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Content-Security-Policy violations: Chromium reports them on the console (the
  // worker's too), and the page's as securitypolicyviolation events.
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
    (e) => (window.__csp = window.__csp || []).push(`${e.violatedDirective} blocked ${e.blockedURI}`)));
  const first = await page.goto(url);
  const csp = first.headers()["content-security-policy"] || "";
  check("the page is served with its Content-Security-Policy", /script-src 'self' 'wasm-unsafe-eval'/.test(csp) && /frame-ancestors 'none'/.test(csp), csp);
  await page.waitForFunction(() => /events checked/.test(document.getElementById("status").textContent), null, { timeout: 60000 });
  check("page loads and checks the default example", true);

  // Pick runtime/default and paste a bundled trace.
  const tracePath = join(repo, "examples", "denied.jsonl");
  const trace = readFileSync(tracePath, "utf8");
  await page.selectOption("#builtin", "runtime/default");
  await page.fill("#trace-text", "");
  await page.fill("#trace-text", trace);
  const idle = () => page.waitForFunction(() => document.body.dataset.idle === "true", null, { timeout: 30000 });
  await idle();
  const status = await page.textContent("#status");
  const n = trace.split("\n").filter((l) => l.trim() && !l.startsWith("#")).length;
  check("the pasted trace is checked", status === `${n} events checked`, status);

  // The oracle: the command line on the same input.
  // Exit status 1 means "some calls are not allowed", which is the point here.
  const cli = spawnSync(syscage, ["check", "--profile", "runtime/default", "--arch", "x86_64", "--kernel", "6.18", "--libseccomp", "latest", "--format", "json", "-q", tracePath], { encoding: "utf8" });
  if (cli.status !== 0 && cli.status !== 1) throw new Error("syscage check failed: " + cli.stderr);
  const out = cli.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const want = {};
  for (const e of out) { const k = e.action.replace("SCMP_ACT_", ""); want[k] = (want[k] || 0) + 1; }
  const got = await page.$$eval("#counts .badge", (bs) => Object.fromEntries(bs.map((b) => { const [k, n] = b.textContent.trim().split(" "); return [k, Number(n)]; })));
  check("verdict counts equal syscage check --format json", JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort()), `page ${JSON.stringify(got)} cli ${JSON.stringify(want)}`);

  const denied = out.find((e) => e.action !== "SCMP_ACT_ALLOW");
  await page.selectOption("#filter-verdict", "denied");
  const row = page.locator(`#events tbody tr`, { has: page.locator("td:first-child", { hasText: new RegExp(`^${denied.line}$`) }) });
  const cells = await row.locator("td").allTextContents();
  check("a denied row shows the CLI's syscall, verdict and rule",
    cells[2] === denied.syscall && cells[4].startsWith(denied.action.replace("SCMP_ACT_", "")) && cells[5] === denied.rule,
    `row ${JSON.stringify(cells)} cli ${JSON.stringify(denied)}`);

  await page.selectOption("#filter-verdict", "");
  const big = await page.locator("#events tbody tr", { hasText: "keyctl" }).locator("td.args").textContent();
  check("64-bit arguments stay exact in the page", big.includes("0xfffffffffffffffd"), big);
  await page.selectOption("#filter-verdict", "denied");

  // Into the disassembly: the executed path is highlighted and ends in a return.
  await row.click();
  await page.waitForSelector("#disasm .hit.last", { timeout: 15000 });
  const last = await page.textContent("#disasm .hit.last");
  const hits = await page.$$eval("#disasm .hit", (h) => h.length);
  check("clicking a row highlights the executed path in the disassembly", /return/.test(last) && hits > 2, `last=${last} hits=${hits}`);
  const heading = await page.textContent("#disasm-h");
  check("the disassembly states the instruction count", new RegExp(`\\(${hits} instructions executed`).test(heading), heading);

  // A rule link jumps into the profile editor.
  await page.selectOption("#filter-verdict", "");
  const allowRow = page.locator("#events tbody tr", { has: page.locator("a.rule", { hasText: /^\/syscalls\// }) }).first();
  const rule = await allowRow.locator("a.rule").textContent();
  await allowRow.locator("a.rule").click();
  const caret = await page.$eval("#profile-text", (t) => t.selectionStart);
  check("clicking a rule puts the editor's cursor on it", caret > 0, `rule ${rule} caret ${caret}`);

  // Parse errors show at the line and pointer.
  await page.fill("#profile-text", '{\n  "defaultAction": "SCMP_ACT_BOGUS"\n}');
  await idle();
  const perr = await page.textContent("#profile-error");
  const bad = await page.textContent("#profile-gutter .bad");
  check("a profile error names the line and JSON pointer and marks the line", /\/defaultAction/.test(perr) && /:2:/.test(perr) && bad === "2", `${perr} / line ${bad}`);

  // A seccompiler file: the page offers its filters, and the chosen one gives the CLI's
  // verdicts for FILE#NAME.
  const fcPath = join(repo, "examples", "firecracker-like.json");
  const vmmPath = join(repo, "examples", "vmm.jsonl");
  await page.fill("#profile-text", readFileSync(fcPath, "utf8"));
  await page.fill("#trace-text", readFileSync(vmmPath, "utf8"));
  await idle();
  const picks = await page.$$eval("#pick option", (os) => os.map((o) => o.textContent));
  const pickerShown = await page.isVisible("#pick");
  await page.selectOption("#pick", "vmm");
  await idle();
  const fcCli = spawnSync(syscage, ["check", "--profile", fcPath + "#vmm", "--arch", "x86_64", "--kernel", "6.18", "--format", "json", "-q", vmmPath], { encoding: "utf8" });
  if (fcCli.status !== 0 && fcCli.status !== 1) throw new Error("syscage check failed: " + fcCli.stderr);
  const fcWant = {};
  for (const l of fcCli.stdout.trim().split("\n")) { const k = JSON.parse(l).action.replace("SCMP_ACT_", ""); fcWant[k] = (fcWant[k] || 0) + 1; }
  const fcGot = await page.$$eval("#counts .badge", (bs) => Object.fromEntries(bs.map((b) => { const [k, n] = b.textContent.trim().split(" "); return [k, Number(n)]; })));
  check("a seccompiler file offers its filters and the chosen one matches syscage check FILE#NAME",
    pickerShown && picks.join(",") === "vmm,api,vcpu" && JSON.stringify(Object.entries(fcGot).sort()) === JSON.stringify(Object.entries(fcWant).sort()),
    `picker ${pickerShown} ${picks} page ${JSON.stringify(fcGot)} cli ${JSON.stringify(fcWant)}`);
  await page.fill("#trace-text", trace);

  // Review: the lint findings on the profile and the diff pane equal the command line's.
  await page.selectOption("#builtin", "runtime/default");
  await idle();
  const cliArgs = ["--kernel", "6.18", "--libseccomp", "latest", "--runtime", "runc", "--arch", "x86_64"];
  const lintCli = JSON.parse(spawnSync(syscage, ["lint", "--format", "json", ...cliArgs, "runtime/default"], { encoding: "utf8" }).stdout);
  const lintPage = await page.$$eval("#profile-findings li", (ls) => ls.map((l) => l.textContent));
  const marked = await page.$$eval("#profile-gutter .lint", (ls) => ls.length);
  check("the profile's review findings are syscage lint's, marked in the gutter",
    lintCli.length > 0 && lintPage.length === lintCli.length && lintPage.every((t, i) => t.includes(lintCli[i].id) && t.startsWith(`line ${lintCli[i].line}:`)) && marked > 0,
    `page ${lintPage.length} (${marked} lines marked), cli ${lintCli.length}`);
  await page.selectOption("#diff-builtin", "podman/default@4.3");
  await idle();
  const diffCli = JSON.parse(spawnSync(syscage, ["diff", "--format", "json", ...cliArgs, "runtime/default", "podman/default@4.3"], { encoding: "utf8" }).stdout);
  const diffSummary = await page.textContent("#diff-summary");
  const diffRows = await page.$$eval("#diff-changes li", (ls) => ls.map((l) => l.textContent));
  check("the diff pane lists what syscage diff lists",
    diffSummary.startsWith(`${diffCli.changes.length} changes`) && diffRows.length === diffCli.changes.length && diffRows.some((r) => r.includes("mount (165)")),
    `${diffSummary}: page ${diffRows.length}, cli ${diffCli.changes.length}`);
  await page.selectOption("#diff-builtin", "");
  await idle();

  // Generate a profile from a trace: the page's text is the command line's, byte for
  // byte (the same core, in wasm), and replaying the trace against it allows it all.
  const curlPath = join(repo, "examples", "curl-version.strace");
  await page.fill("#trace-text", readFileSync(curlPath, "utf8"));
  await idle();
  await page.click("#generate");
  await page.waitForFunction(() => /verified/.test(document.getElementById("generated-summary").textContent), null, { timeout: 60000 });
  const genText = await page.textContent("#generated-text");
  const genCli = spawnSync(syscage, ["generate", "--arch", "x86_64", "--kernel", "6.18", "--libseccomp", "latest", "--runtime", "runc", "-q", curlPath], { encoding: "utf8" });
  check("generate in the page writes what syscage generate writes", genCli.status === 0 && genText === genCli.stdout && /"SCMP_ACT_ERRNO"/.test(genText),
    `cli status ${genCli.status} ${genCli.stderr}; page ${genText.length} bytes, cli ${genCli.stdout.length} bytes`);
  const genSummary = await page.textContent("#generated-summary");
  check("the generated profile is reported verified", /verified: every traced call goes ahead/.test(genSummary), genSummary);
  await page.click("#use-generated");
  await idle();
  const genCounts = await page.$$eval("#counts .badge", (bs) => bs.map((b) => b.textContent.trim()));
  check("the trace replayed against the generated profile is all allowed", genCounts.length === 1 && /^ALLOW /.test(genCounts[0]), genCounts.join(" "));
  await page.selectOption("#builtin", "runtime/default");
  await page.fill("#trace-text", trace);
  await idle();

  // Shareable state: a new page with the same URL restores the profile and trace.
  await page.fill("#profile-text", '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"}]}');
  await idle();
  await page.waitForTimeout(300); // the fragment is written after the run
  const shared = page.url();
  const again = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  await again.goto(shared);
  await again.waitForFunction(() => document.body.dataset.idle === "true", null, { timeout: 60000 });
  const restored = await again.$eval("#profile-text", (t) => t.value);
  const kills = await again.$$eval("#counts .badge", (bs) => bs.map((b) => b.textContent).join(" "));
  check("the URL fragment restores profile, trace and verdicts", /KILL_PROCESS/.test(restored) && /KILL_PROCESS 1/.test(kills), kills);

  // Screenshots at desktop and narrow widths.
  await page.goto(url);
  await idle();
  await page.locator("#events tbody tr").nth(1).click();
  await page.waitForSelector("#disasm .hit.last");
  await page.screenshot({ path: join(shots, "playground-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(shots, "playground-narrow.png"), fullPage: true });
  check("screenshots saved", true);
  check("no uncaught errors in the page", errors.length === 0, errors.join("; "));
  const violations = cspErrors.concat(await page.evaluate(() => window.__csp || []));
  check("no Content-Security-Policy violations", violations.length === 0, violations.join("; "));
} catch (e) {
  check("the test ran to the end", false, e.stack || String(e));
  if (cspErrors.length) console.log(`Content-Security-Policy violations: ${cspErrors.join("; ")}`);
  if (page) console.log(`the page's status: ${await page.textContent("#status").catch(() => "?")}`);
} finally {
  await browser.close();
  server.kill();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
