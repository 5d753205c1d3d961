// syscage playground: the page. Everything it shows comes from the simulator in
// worker.js (the same syscage.wasm the command line runs); this file only gathers
// input, renders answers, and keeps the state in the URL fragment.

const $ = (id) => document.getElementById(id);
const MAX_ROWS = 2000;

// ---- the worker -------------------------------------------------------------------
const worker = new Worker("worker.js");
let nextId = 1;
const pending = new Map();
const loaded = new Promise((resolve, reject) => pending.set(0, { resolve, reject }));
worker.onmessage = ({ data }) => {
  const p = pending.get(data.id);
  if (!p) return;
  pending.delete(data.id);
  data.ok ? p.resolve(data.result) : p.reject(data.error);
};
function call(method, request) {
  const id = nextId++;
  worker.postMessage({ id, method, request });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

// ---- state ------------------------------------------------------------------------
const state = {
  builtin: "runtime/default",
  profile: "",
  trace: "",
  arch: "x86_64",
  runtime: "runc",
  libseccomp: "latest", // no host library to ask in a browser
  kernel: "6.18",
  caps: "",
  diffWith: "", // "" (none), a builtin name, or "custom"
  diffText: "",
  diffSubset: false,
  pick: "", // the filter chosen in a seccompiler file ("" when not one)
};
let results = null; // last check answer
let selected = -1; // index into results.events
let runSeq = 0;

/** The target a profile is resolved for (simulator/ABI.md, "Inputs"). */
function target() {
  const t = { arch: state.arch, runtime: state.runtime, kernel: state.kernel, libseccomp: state.libseccomp };
  const caps = state.caps.trim();
  if (caps === "none") t.caps = [];
  else if (caps) t.caps = caps.split(",").map((c) => c.trim()).filter(Boolean);
  return t;
}

function profileRequest() {
  if (state.builtin !== "custom") return { builtin: state.builtin };
  const p = { source: "profile.json", text: state.profile };
  if (state.pick) p.filter = state.pick;
  return p;
}

/** The filter names of a seccompiler file (a top-level object of `{"filter": [...]}`
 *  objects), or [] for anything else. The simulator decides what the file is; this only
 *  offers the choice it would ask for. */
function seccompilerFilters(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return [];
  const names = Object.keys(v);
  const isFilter = (f) => f && typeof f === "object" && !Array.isArray(f) && Array.isArray(f.filter);
  return names.length > 0 && names.every((n) => isFilter(v[n])) ? names : [];
}

/** Shows the filter picker when the custom profile is a seccompiler file with several
 *  filters, keeping the current choice when it still exists. */
function renderPicker() {
  const names = state.builtin === "custom" ? seccompilerFilters(state.profile) : [];
  if (names.length < 2) {
    state.pick = "";
    $("pick-label").hidden = true;
    return;
  }
  if (!names.includes(state.pick)) state.pick = names[0];
  $("pick").innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join("");
  $("pick").value = state.pick;
  $("pick-label").hidden = false;
}

// ---- editors ----------------------------------------------------------------------
let findingLines = new Set(); // lines of the profile with review findings
function renderGutter(badLine) {
  const n = Math.max(1, $("profile-text").value.split("\n").length);
  let out = "";
  for (let i = 1; i <= n; i++) {
    if (i === badLine) out += `<span class="bad">${i}</span>\n`;
    else if (findingLines.has(i)) out += `<span class="lint">${i}</span>\n`;
    else out += `${i}\n`;
  }
  $("profile-gutter").innerHTML = out;
  $("profile-gutter").scrollTop = $("profile-text").scrollTop;
}
$("profile-text").addEventListener("scroll", () => ($("profile-gutter").scrollTop = $("profile-text").scrollTop));

/** Byte offset of the value at a JSON pointer (RFC 6901) in `text`, or -1. */
function pointerOffset(text, pointer) {
  let i = 0;
  const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
  const str = () => { let j = i + 1, out = ""; while (j < text.length && text[j] !== '"') { if (text[j] === "\\") { out += text[j + 1]; j += 2; } else out += text[j++]; } i = j + 1; return out; };
  const skip = () => {
    let depth = 0;
    do {
      const c = text[i];
      if (c === '"') { str(); continue; }
      if (c === "{" || c === "[") depth++;
      if (c === "}" || c === "]") depth--;
      i++;
      if (depth === 0) { while (i < text.length && !",}]".includes(text[i])) i++; }
    } while (depth > 0 && i < text.length);
  };
  ws();
  if (!pointer) return i;
  for (const raw of pointer.slice(1).split("/")) {
    const tok = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    ws();
    if (text[i] === "{") {
      i++;
      for (;;) {
        ws();
        if (text[i] !== '"') return -1;
        const key = str();
        ws(); i++; ws();
        if (key === tok) break;
        skip(); ws();
        if (text[i] !== ",") return -1;
        i++;
      }
    } else if (text[i] === "[") {
      i++;
      for (let n = Number(tok); n > 0; n--) { ws(); skip(); ws(); if (text[i] !== ",") return -1; i++; }
      ws();
    } else return -1;
  }
  return i < text.length ? i : -1;
}

function jumpToPointer(pointer) {
  if (state.builtin === "unconfined") return;
  const ta = $("profile-text");
  const at = pointerOffset(ta.value, pointer);
  if (at < 0) return;
  const line = ta.value.slice(0, at).split("\n").length;
  ta.focus();
  ta.setSelectionRange(at, at);
  ta.scrollTop = Math.max(0, (line - 4) * 18);
  renderGutter(line);
}

// ---- rendering --------------------------------------------------------------------
function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function short(action) {
  return String(action || "UNKNOWN").replace(/^SCMP_ACT_/, "");
}
const ERRNO_NAMES = { 1: "EPERM", 2: "ENOENT", 13: "EACCES", 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" };
function verdictText(e) {
  const a = short(e.action);
  if (a === "ERRNO") return `ERRNO(${ERRNO_NAMES[e.data] || e.data})`;
  if ((a === "TRACE" || a === "TRAP") && e.data) return `${a}(${e.data})`;
  return a;
}
function argsText(args) {
  const known = (args || []).map((v) => (v === null || v === undefined ? "?" : v < 4096 ? String(v) : "0x" + BigInt(v).toString(16)));
  while (known.length && known[known.length - 1] === "?") known.pop();
  return known.join(", ");
}

function renderCounts() {
  const counts = results.actionCounts;
  $("counts").innerHTML = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `<span class="badge v-${esc(k)}" data-count="${esc(k)}">${esc(k)} ${n}</span>`)
    .join("");
}

let shownRows = []; // [{i, event}] currently in the table
let tableSeq = 0;
async function renderTable() {
  const seq = ++tableSeq;
  const page = await call("rows", { verdict: $("filter-verdict").value, syscall: $("filter-syscall").value.trim(), limit: MAX_ROWS });
  if (seq !== tableSeq) return;
  shownRows = page.rows;
  const html = page.rows.map(({ i, event: e }) => {
    const maybe = e.possible ? ` <span class="maybe" title="depends on arguments the trace does not show">(or ${e.possible.map((p) => verdictText(p)).filter((t) => t !== verdictText(e)).join(", ")})</span>` : "";
    return `<tr data-i="${i}"${i === selected ? ' class="selected"' : ""}><td>${e.line}</td><td>${e.pid ?? ""}</td><td>${esc(e.syscall)}</td><td class="args" title="${esc(argsText(e.args))}">${esc(argsText(e.args))}</td><td class="verdict ${esc(short(e.action))}">${esc(verdictText(e))}${maybe}</td><td><a href="#" class="rule" data-rule="${esc(e.rule)}">${esc(e.rule)}</a></td></tr>`;
  });
  $("events").querySelector("tbody").innerHTML = html.join("");
  $("shown").textContent = page.matched > page.rows.length ? `showing ${page.rows.length} of ${page.matched} matching events` : `${page.matched} events`;
}

function renderStats(s) {
  if (!s) { $("stats").textContent = "no filter: the profile installs nothing"; $("chart").innerHTML = ""; return; }
  const parts = s.arches.map((a) => `${a.arch}: <b>${a.executed.mean.toFixed(2)}</b> instructions per syscall (min ${a.executed.min}, max ${a.executed.max}), <b>${a.cacheable}</b> of ${a.executed.samples} syscalls cacheable`);
  $("stats").innerHTML = `<b>${s.instructions}</b> instructions. ` + parts.join("; ");
  $("filter-summary").textContent = `${s.instructions} instructions`;
  // Histogram of executed instructions per syscall for the native arch.
  const a = s.arches[0];
  const hist = {};
  for (const [, , n] of a.per_syscall || []) hist[n] = (hist[n] || 0) + 1;
  const keys = Object.keys(hist).map(Number).sort((x, y) => x - y);
  const svg = $("chart");
  if (!keys.length) { svg.innerHTML = ""; return; }
  const w = svg.clientWidth || 400, h = 120, max = Math.max(...Object.values(hist));
  const bw = Math.max(4, Math.min(28, (w - 30) / keys.length - 2));
  svg.innerHTML = keys.map((k, i) => {
    const bh = Math.max(1, (hist[k] / max) * (h - 28));
    const x = 20 + i * (bw + 2);
    return `<rect x="${x}" y="${h - 16 - bh}" width="${bw}" height="${bh}"><title>${hist[k]} syscalls execute ${k} instructions</title></rect><text x="${x}" y="${h - 4}">${k}</text>`;
  }).join("") + `<text x="2" y="10">syscalls by instructions executed (${esc(a.arch)})</text>`;
}

async function showDisasm(i) {
  selected = i;
  document.querySelectorAll("#events tbody tr.selected").forEach((tr) => tr.classList.remove("selected"));
  const tr = document.querySelector(`#events tbody tr[data-i="${i}"]`);
  if (tr) tr.classList.add("selected");
  const e = await call("event", { i });
  $("disasm-for").textContent = `— path of line ${e.line}: ${e.syscall}`;
  try {
    const d = await call("disasm", { profile: profileRequest(), target: target(), event: { arch: e.arch, nr: e.nr, args: e.args } });
    const last = d.run.path[d.run.path.length - 1];
    $("disasm").innerHTML = d.lines
      .map((l) => `<span class="ins${l.executed ? " hit" : " dim"}${l.index === last ? " last" : ""}" data-k="${l.index}">${esc(String(l.index).padStart(4, "0") + ": " + l.raw + "  " + l.text)}</span>`)
      .join("");
    $("disasm-h").firstChild.textContent = `Disassembly (${d.run.executed} instructions executed, ${d.run.describe}) `;
    const first = $("disasm").querySelector(".last");
    if (first) first.scrollIntoView({ block: "center" });
  } catch (err) {
    $("disasm").textContent = err.message || String(err);
  }
}

// ---- running ----------------------------------------------------------------------
async function run() {
  const seq = ++runSeq;
  document.body.dataset.idle = "false";
  saveState();
  $("status").textContent = "checking…";
  $("profile-error").hidden = true;
  $("trace-error").hidden = true;
  renderGutter(0);
  try {
    const [check, compiled, lint, diff] = await Promise.all([
      call("check", { profiles: [profileRequest()], traces: [{ source: "trace", text: state.trace }], target: target() }),
      call("compile", { profile: profileRequest(), target: target() }).catch((e) => ({ error: e })),
      call("lint", { profile: profileRequest(), target: target() }).catch(() => null),
      state.diffWith
        ? call("diff", { a: profileRequest(), b: diffRequest(), target: target(), subset: state.diffSubset }).catch((e) => ({ error: e }))
        : Promise.resolve(null),
    ]);
    if (seq !== runSeq) return;
    renderFindings(lint);
    renderDiff(diff);
    results = check;
    selected = -1;
    renderCounts();
    await renderTable();
    renderStats(compiled.error ? null : compiled.stats);
    if (!compiled.error && compiled.disasm) {
      $("disasm").innerHTML = compiled.disasm.map((l) => `<span class="ins">${esc(l)}</span>`).join("");
      $("disasm-h").firstChild.textContent = "Disassembly ";
      $("disasm-for").textContent = "— select an event to see its path";
    }
    $("status").textContent = `${results.total} events checked`;
    settled(seq);
  } catch (err) {
    if (seq !== runSeq) return;
    $("status").textContent = "error";
    const msg = err.message || String(err);
    if (err.source === "trace") {
      $("trace-error").textContent = msg;
      $("trace-error").hidden = false;
    } else {
      $("profile-error").textContent = msg;
      $("profile-error").hidden = false;
      findingLines = new Set();
      $("findings-box").hidden = true;
      if (err.line && err.source === "profile.json") renderGutter(err.line);
    }
    settled(seq);
  }
}
let timer = 0;
function schedule() {
  // `data-idle` tells scripts (and the end-to-end test) when the page shows the answer
  // to what is in the editors.
  document.body.dataset.idle = "false";
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = 0;
    run();
  }, 250);
}
function settled(seq) {
  if (seq === runSeq && !timer) document.body.dataset.idle = "true";
}

// ---- shareable state in the URL fragment --------------------------------------------
async function pack(obj) {
  const bytes = new TextEncoder().encode(JSON.stringify(obj));
  let data = bytes;
  if (typeof CompressionStream !== "undefined") {
    const s = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    data = new Uint8Array(await new Response(s).arrayBuffer());
  }
  let bin = "";
  data.forEach((b) => (bin += String.fromCharCode(b)));
  return (typeof CompressionStream !== "undefined" ? "z" : "j") + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
async function unpack(s) {
  const kind = s[0];
  const bin = atob(s.slice(1).replace(/-/g, "+").replace(/_/g, "/"));
  let bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (kind === "z") {
    const st = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    bytes = new Uint8Array(await new Response(st).arrayBuffer());
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}
const MAX_SHARED = 256 * 1024; // characters of trace worth putting in a link
async function saveState() {
  const s = { ...state };
  if (s.builtin !== "custom") delete s.profile;
  if (s.trace.length > MAX_SHARED) {
    // A link that long helps nobody (and costs the page time on every change).
    delete s.trace;
    $("share").title = "The trace is too large for a link: only the profile and options are shared";
  } else {
    $("share").title = "Copy a link that restores the profile, trace and options";
  }
  history.replaceState(null, "", "#" + (await pack(s)));
}

// ---- review: lint findings and diff ---------------------------------------------------
function diffRequest() {
  if (state.diffWith !== "custom") return { builtin: state.diffWith };
  return { source: "other.json", text: state.diffText };
}

/** The review findings (ABI.md, `lint`): listed under the profile, marked in the gutter. */
function renderFindings(lint) {
  const findings = (lint && lint.findings) || [];
  findingLines = new Set(findings.map((f) => f.line).filter((l) => l > 0));
  renderGutter(0);
  $("findings-box").hidden = findings.length === 0;
  const serious = findings.filter((f) => f.severity !== "note").length;
  $("findings-summary").textContent = `${findings.length} review finding${findings.length === 1 ? "" : "s"} (${serious} warning${serious === 1 ? "" : "s"} or errors)`;
  $("profile-findings").innerHTML = findings
    .map((f) => `<li data-pointer="${esc(f.pointer)}" title="${esc(f.why + " Fix: " + f.fix)}">line ${f.line}: ${esc(f.severity)} ${esc(f.id)} ${esc(f.name)}: ${esc(f.message)}</li>`)
    .join("");
}

function renderDiff(d) {
  const list = $("diff-changes");
  if (!d) {
    $("diff-summary").textContent = "";
    list.innerHTML = "";
    return;
  }
  if (d.error) {
    $("diff-summary").textContent = "";
    list.innerHTML = `<li class="error">${esc(d.error.message || String(d.error))}</li>`;
    return;
  }
  const widening = d.changes.filter((c) => c.widens).length;
  $("diff-summary").textContent = d.equal
    ? `no difference (${d.events} events compared)`
    : `${d.total} change${d.total === 1 ? "" : "s"}${state.diffSubset ? " that open something" : `, ${widening}${d.total > d.changes.length ? "+" : ""} opening something`}` +
      (d.approximated ? " · some regions sampled" : "");
  list.innerHTML = d.changes.map((c) => `<li class="${c.widens ? "widens" : ""}">${c.widens ? "+ " : ""}${esc(c.describe)}</li>`).join("");
}

// ---- generate ---------------------------------------------------------------------
let generated = null; // the last generate answer

/** Asks the simulator for the tightest profile for the trace (ABI.md, `generate`). */
async function generateProfile() {
  const panel = $("generated-panel");
  panel.hidden = false;
  $("generated-summary").textContent = "generating…";
  $("generated-notes").innerHTML = "";
  $("generated-text").textContent = "";
  $("use-generated").disabled = true;
  try {
    generated = await call("generate", {
      traces: [{ source: "trace", text: state.trace }],
      target: target(),
      args: $("gen-args").checked ? "observed" : "none",
      default_action: $("gen-default").value,
      format: $("gen-format").value,
      no_new_privs: $("gen-nnp").checked,
    });
  } catch (e) {
    generated = null;
    $("generated-summary").textContent = "";
    $("generated-notes").innerHTML = `<li class="error">${esc(e.message || String(e))}</li>`;
    return;
  }
  const g = generated;
  const traced = g.added.filter((a) => a.reason === "traced").length;
  const runtime = g.added.filter((a) => a.reason !== "traced").map((a) => a.name);
  $("generated-summary").textContent =
    `${traced} syscalls from ${g.distinct} distinct calls` +
    (runtime.length ? `, ${runtime.length} for the runtime` : "") +
    ` · ${g.architectures.join(", ")} · default ${g.default} · ${g.instructions} BPF instructions · ` +
    (g.verified ? "verified: every traced call goes ahead" : "NOT verified");
  const notes = [];
  if (g.comment) notes.push(g.comment);
  if (runtime.length) notes.push("the runtime calls these under the filter before the program starts: " + runtime.join(" "));
  for (const a of g.added) if (a.condition) notes.push(`${a.name} only when ${a.condition}`);
  for (const n of g.notes) notes.push(n);
  for (const d of g.denied) notes.push(`still denied: ${d.what}: ${d.verdict}`);
  $("generated-notes").innerHTML = notes.map((n) => `<li>${esc(n)}</li>`).join("");
  $("generated-text").textContent = g.text;
  // Only the JSON formats load back into the profile editor (SPO is YAML).
  $("use-generated").disabled = g.format === "spo";
}

function useGenerated() {
  if (!generated) return;
  state.profile = generated.text;
  state.builtin = "custom";
  $("builtin").value = "custom";
  $("profile-text").value = state.profile;
  renderPicker();
  renderGutter(0);
  schedule();
}

// ---- wiring -----------------------------------------------------------------------
async function loadBuiltin(name) {
  if (name === "unconfined") return "// unconfined: no filter is installed, every call is allowed";
  // builtin/runtime-default.json, builtin/containerd-default@1.6.json, ...
  const r = await fetch("builtin/" + name.replace("/", "-") + ".json");
  return r.ok ? r.text() : "";
}

async function loadExample(name) {
  const r = await fetch("examples/" + name);
  if (!r.ok) throw new Error("cannot load example " + name);
  state.trace = await r.text();
  $("trace-text").value = state.trace;
  schedule();
}

function bindInputs() {
  $("builtin").addEventListener("change", async (e) => {
    state.builtin = e.target.value;
    if (state.builtin !== "custom") {
      $("profile-text").value = await loadBuiltin(state.builtin);
      state.profile = $("profile-text").value;
    }
    renderPicker();
    renderGutter(0);
    schedule();
  });
  $("pick").addEventListener("change", (e) => {
    state.pick = e.target.value;
    schedule();
  });
  $("profile-text").addEventListener("input", (e) => {
    state.profile = e.target.value;
    if (state.builtin !== "custom") {
      state.builtin = "custom";
      $("builtin").value = "custom";
    }
    renderPicker();
    renderGutter(0);
    schedule();
  });
  $("trace-text").addEventListener("input", (e) => {
    state.trace = e.target.value;
    schedule();
  });
  for (const id of ["arch", "runtime", "libseccomp", "kernel", "caps"]) {
    $(id).addEventListener("input", (e) => {
      state[id] = e.target.value;
      schedule();
    });
  }
  $("profile-file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    state.profile = await f.text();
    state.builtin = "custom";
    $("builtin").value = "custom";
    $("profile-text").value = state.profile;
    renderPicker();
    renderGutter(0);
    schedule();
  });
  $("trace-file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    state.trace = await f.text();
    $("trace-text").value = state.trace;
    schedule();
  });
  $("generate").addEventListener("click", generateProfile);
  $("profile-findings").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-pointer]");
    if (li) jumpToPointer(li.dataset.pointer);
  });
  $("diff-builtin").addEventListener("change", (e) => {
    state.diffWith = e.target.value;
    $("diff-editor").hidden = state.diffWith !== "custom";
    schedule();
  });
  $("diff-text").addEventListener("input", (e) => {
    state.diffText = e.target.value;
    schedule();
  });
  $("diff-subset").addEventListener("change", (e) => {
    state.diffSubset = e.target.checked;
    schedule();
  });
  $("use-generated").addEventListener("click", useGenerated);
  document.querySelectorAll("[data-example]").forEach((b) => b.addEventListener("click", () => loadExample(b.dataset.example)));
  $("filter-verdict").addEventListener("change", () => results && renderTable());
  $("filter-syscall").addEventListener("input", () => results && renderTable());
  $("events").addEventListener("click", (e) => {
    const a = e.target.closest("a.rule");
    if (a) {
      e.preventDefault();
      jumpToPointer(a.dataset.rule);
      return;
    }
    const tr = e.target.closest("tr[data-i]");
    if (tr) showDisasm(Number(tr.dataset.i));
  });
  $("share").addEventListener("click", async () => {
    await saveState();
    try {
      await navigator.clipboard.writeText(location.href);
      $("status").textContent = "link copied";
    } catch {
      $("status").textContent = "link is in the address bar";
    }
  });
}

async function start() {
  bindInputs();
  let restored = false;
  if (location.hash.length > 1) {
    try {
      Object.assign(state, await unpack(location.hash.slice(1)));
      restored = true;
    } catch {
      $("status").textContent = "could not read the shared link; starting fresh";
    }
  }
  for (const id of ["arch", "runtime", "libseccomp", "kernel", "caps"]) $(id).value = state[id];
  $("diff-builtin").value = state.diffWith;
  $("diff-text").value = state.diffText;
  $("diff-subset").checked = state.diffSubset;
  $("diff-editor").hidden = state.diffWith !== "custom";
  $("builtin").value = state.builtin;
  $("profile-text").value = state.builtin === "custom" ? state.profile : await loadBuiltin(state.builtin);
  renderPicker();
  renderGutter(0);
  try {
    await loaded;
  } catch (e) {
    $("status").textContent = e.message;
    return;
  }
  if (restored && state.trace) {
    $("trace-text").value = state.trace;
    run();
  } else {
    await loadExample("denied.jsonl");
  }
}
start();
