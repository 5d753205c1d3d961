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
  const ptr = exports.syscage_alloc(bytes.length);
  new Uint8Array(exports.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

function call(method, request) {
  const m = enc.encode(method);
  const r = enc.encode(JSON.stringify(request));
  const mp = put(m);
  const rp = put(r);
  const packed = BigInt.asUintN(64, BigInt(exports.syscage_call(mp, m.length, rp, r.length)));
  const ptr = Number(packed >> 32n);
  const len = Number(packed & 0xffffffffn);
  const text = dec.decode(new Uint8Array(exports.memory.buffer, ptr, len).slice());
  exports.syscage_free(ptr, len);
  return JSON.parse(text);
}

ready
  .then(({ instance }) => {
    exports = instance.exports;
    postMessage({ id: 0, ok: true, result: { abi: exports.syscage_abi_version() } });
  })
  .catch((e) => postMessage({ id: 0, ok: false, error: { message: "cannot load syscage.wasm: " + e } }));

onmessage = async ({ data }) => {
  await ready.catch(() => {});
  if (!exports) {
    postMessage({ id: data.id, ok: false, error: { message: "the simulator failed to load" } });
    return;
  }
  try {
    const response = call(data.method, data.request);
    if (response && response.error) {
      postMessage({ id: data.id, ok: false, error: response.error });
    } else {
      postMessage({ id: data.id, ok: true, result: response.ok !== undefined ? response.ok : response });
    }
  } catch (e) {
    // A trap in the guest: the instance is no longer usable; say so.
    postMessage({ id: data.id, ok: false, error: { message: "the simulator stopped: " + e } });
  }
};
