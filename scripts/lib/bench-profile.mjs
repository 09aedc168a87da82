/**
 * Where the time goes, for `npm run bench` (section "profile"): a V8 CPU profile of the worker's
 * isolate (it also hosts the Durable Objects in `wrangler dev`) taken through the inspector
 * port while a load runs, summarised as the top functions by self time. D1 and KV run in
 * miniflare's own isolates, so time spent waiting on them shows as "(idle)" here.
 */
import WebSocket from "ws";

/** A Chrome DevTools Protocol session with the worker isolate of `wrangler dev --inspector-port`. */
export async function inspect(inspectorPort) {
  const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = list.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error("no inspector target");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  let seq = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
    else p.resolve(msg.result);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** The worker isolate's used JS heap in bytes, through a short inspector session. */
export async function heapUsed(inspectorPort) {
  const s = await inspect(inspectorPort);
  try {
    return (await s.send("Runtime.getHeapUsage")).usedSize;
  } finally {
    s.close();
  }
}

/**
 * Samples the worker isolate's used JS heap (worker and Durable Objects) while `work` runs:
 * { before, peak, after } in bytes. Each sample is its own short session, every `everyMs`: a
 * session held open for the whole run stalls workerd's streams. workerd does not answer a
 * forced GC, so garbage not yet collected counts too.
 */
export async function withHeapSamples(inspectorPort, work, everyMs = 100) {
  const before = await heapUsed(inspectorPort);
  let peak = before;
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, everyMs));
      peak = Math.max(peak, await heapUsed(inspectorPort));
    }
  })();
  const result = await work();
  sampling = false;
  await loop;
  const after = await heapUsed(inspectorPort);
  return { result, heap: { before, peak: Math.max(peak, after), after } };
}

export async function withCpuProfile(inspectorPort, work) {
  const { send, close } = await inspect(inspectorPort);
  try {
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 200 });
    await send("Profiler.start");
    const result = await work();
    const { profile } = await send("Profiler.stop");
    return { result, summary: summarise(profile) };
  } finally {
    close();
  }
}

/** Top functions by self time, and the shares of idle / GC / other. */
function summarise(profile, top = 12) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ticks = new Map();
  for (const s of profile.samples) ticks.set(s, (ticks.get(s) ?? 0) + 1);
  const total = profile.samples.length || 1;
  const self = new Map();
  for (const [id, count] of ticks) {
    const f = byId.get(id).callFrame;
    const file = f.url ? f.url.split("/").pop() : "";
    const key = f.url
      ? `${f.functionName || "(anonymous)"} (${file}:${f.lineNumber + 1})`
      : f.functionName || "(native)";
    self.set(key, (self.get(key) ?? 0) + count);
  }
  const share = (name) => (self.get(name) ?? 0) / total;
  return {
    samples: total,
    idle: share("(idle)"),
    gc: share("(garbage collector)"),
    program: share("(program)"),
    top: [...self.entries()]
      .filter(([k]) => !["(idle)", "(garbage collector)", "(program)"].includes(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, n]) => ({ fn, share: n / total })),
  };
}
