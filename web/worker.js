// The simulator runs here, off the main thread: the page stays responsive on large
// traces. The worker loads the same syscage.wasm the command line embeds and calls
// its plain exports (see simulator/ABI.md); messages are {id, method, request} in and
// {id, ok, result | error} out.
let exports = null;
const ready = WebAssembly.instantiateStreaming
  ? WebAssembly.instantiateStreaming(fetch("syscage.wasm"), {})
  : fetch("syscage.wasm").then((r) => r.arrayBuffer()).then((b) => WebAssembly.instantiate(b, {}));

const enc = new TextEncoder();
const dec = new TextDecoder();

function put(bytes) {
  const ptr = exports.syscage_alloc(bytes.length) >>> 0;
  if (ptr === 0) throw new Error("the simulator ran out of memory");
  new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

/** Moves the traces' text out of the request into one data buffer (ABI.md, "data"
 *  inputs): a large trace then crosses as bytes, with no JSON escaping on either side. */
function withData(request) {
  if (!exports.syscage_call_with_data || !Array.isArray(request.traces)) return [request, null];
  const parts = [];
  let length = 0;
  const traces = request.traces.map((t) => {
    if (typeof t.text !== "string") return t;
    const bytes = enc.encode(t.text);
    parts.push(bytes);
    const input = { source: t.source, data: { offset: length, length: bytes.length } };
    length += bytes.length;
    return input;
  });
  if (!parts.length) return [request, null];
  const data = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return [{ ...request, traces }, data];
}

function call(method, request) {
  const [req, data] = withData(request);
  return callWith(method, req, data);
}

/** One call: `request` (an object) and an optional data buffer (bytes). */
function callWith(method, req, data) {
  const m = enc.encode(method);
  // BigInt arguments go back as hex strings, which the simulator reads exactly.
  const r = enc.encode(JSON.stringify(req, (k, v) => (typeof v === "bigint" ? "0x" + v.toString(16) : v)));
  const mp = put(m);
  const rp = put(r);
  let packed;
  if (data) {
    const dp = put(data);
    packed = BigInt.asUintN(64, BigInt(exports.syscage_call_with_data(mp, m.length, rp, r.length, dp, data.length)));
    exports.syscage_free(dp, data.length);
  } else {
    packed = BigInt.asUintN(64, BigInt(exports.syscage_call(mp, m.length, rp, r.length)));
  }
  exports.syscage_free(mp, m.length);
  exports.syscage_free(rp, r.length);
  if (packed === 0n) throw new Error("the simulator ran out of memory");
  const ptr = Number(packed >> 32n);
  const len = Number(packed & 0xffffffffn);
  // Memory may have grown during the call: take a fresh view of it.
  const text = dec.decode(new Uint8Array(exports.memory.buffer, ptr, len).slice());
  exports.syscage_free(ptr, len);
  // Syscall arguments are 64-bit: keep integers above 2^53 exact (as BigInt) where the
  // browser lets a reviver see the source text.
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context && /^\d+$/.test(context.source)
      ? BigInt(context.source)
      : value,
  );
}

/** How much of a trace crosses in one check_feed call. */
const CHUNK = 1 << 20;

/** `check` through check_begin / check_feed / check_end (ABI.md, extension
 *  check_stream): the trace crosses a megabyte at a time, so the guest's memory stays
 *  what one chunk and the report need. Answers exactly what `check` answers. */
function checkStreamed(request) {
  const { traces = [], ...head } = request;
  const begun = callWith("check_begin", head, null);
  if (!begun.ok) return begun;
  const result = begun.result;
  const events = [];
  const warnings = [];
  const take = (r) => {
    if (r.events) for (const e of r.events) events.push(e);
    for (const w of r.trace_warnings || []) warnings.push(w);
  };
  for (const t of traces) {
    const bytes = typeof t.text === "string" ? enc.encode(t.text) : new Uint8Array(0);
    let at = 0;
    do {
      const chunk = bytes.subarray(at, at + CHUNK);
      at += chunk.length;
      const fed = callWith("check_feed", { source: t.source || "trace", last: at >= bytes.length }, chunk);
      if (!fed.ok) return fed;
      take(fed.result);
    } while (at < bytes.length);
  }
  const end = callWith("check_end", {}, null);
  if (!end.ok) return end;
  take(end.result);
  result.trace_warnings = warnings;
  result.counts = end.result.counts;
  result.summary = end.result.summary;
  if (request.events !== false) result.events = events;
  return { ok: true, result };
}

/** Whether the module has the streamed check (its `version` lists the extension). */
let streams = false;

ready
  .then(({ instance }) => {
    exports = instance.exports;
    if (exports.syscage_abi_version() !== 1) throw new Error("unsupported simulator ABI " + exports.syscage_abi_version());
    const v = call("version", {});
    streams = Boolean(exports.syscage_call_with_data && v.ok && v.result.extensions && v.result.extensions.check_stream >= 1);
    postMessage({ id: 0, ok: true, result: { abi: exports.syscage_abi_version() } });
  })
  .catch((e) => postMessage({ id: 0, ok: false, error: { message: "cannot load syscage.wasm: " + e } }));

// The last check's events stay here; the page asks for the rows it shows, so a
// 100,000-event trace never crosses to the main thread whole.
let lastEvents = [];

function short(action) {
  return String(action || "UNKNOWN").replace(/^SCMP_ACT_/, "");
}

/** Rows matching a filter: {total, matched, rows: [{i, event}]} (at most `limit`). */
function rows({ verdict, syscall, limit }) {
  const out = [];
  let matched = 0;
  lastEvents.forEach((e, i) => {
    const a = short(e.action);
    if (verdict === "denied" && a === "ALLOW") return;
    if (verdict && verdict !== "denied" && a !== verdict) return;
    if (syscall && !String(e.syscall).includes(syscall)) return;
    matched++;
    if (out.length < limit) out.push({ i, event: e });
  });
  return { total: lastEvents.length, matched, rows: out };
}

onmessage = async ({ data }) => {
  await ready.catch(() => {});
  if (!exports) {
    postMessage({ id: data.id, ok: false, error: { message: "the simulator failed to load" } });
    return;
  }
  if (data.method === "rows") {
    postMessage({ id: data.id, ok: true, result: rows(data.request) });
    return;
  }
  if (data.method === "event") {
    postMessage({ id: data.id, ok: true, result: lastEvents[data.request.i] });
    return;
  }
  try {
    const response =
      data.method === "check" && streams && (data.request.traces || []).every((t) => typeof t.text === "string")
        ? checkStreamed(data.request)
        : call(data.method, data.request);
    if (data.method === "check" && response.ok) {
      // Keep the events here and send the page only what it renders.
      lastEvents = response.result.events || [];
      const counts = {};
      for (const e of lastEvents) counts[short(e.action)] = (counts[short(e.action)] || 0) + 1;
      response.result.events = undefined;
      response.result.actionCounts = counts;
      response.result.total = lastEvents.length;
    }
    if (response.ok) {
      postMessage({ id: data.id, ok: true, result: response.result });
    } else {
      postMessage({ id: data.id, ok: false, error: response.error });
    }
  } catch (e) {
    // A trap in the guest: the instance is no longer usable; say so.
    postMessage({ id: data.id, ok: false, error: { message: "the simulator stopped: " + e } });
  }
};
