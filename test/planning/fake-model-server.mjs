// vitest globalSetup (runs in Node, not workerd): a fake OpenAI-compatible chat completions server
// on 127.0.0.1 with a random port, for the model-backed planner tests. Its URL is provided to the
// tests as `inject("plannerModelUrl")`. Stateless: the scenario is chosen by a `scenario:<name>`
// marker in the build objective (inside the user message), so test files can run in parallel.
// Plain .mjs so the workerd-typed test tsconfig does not need Node types.
import http from "node:http";

export const FAKE_MODEL_KEY = "test-planner-key";
export const FAKE_MODEL_NAME = "fake-planner";

/** @param {any[]} baseline */
function withExtraNode(baseline, extra) {
  return [...baseline, extra];
}

/** @returns {{ status?: number, delayMs?: number, content?: string }} */
function answer(scenario, facts) {
  const baseline = Array.isArray(facts.baseline_plan) ? facts.baseline_plan : [];
  const first = baseline[0]?.node_id ?? "scanner";
  const json = (v) => JSON.stringify(v);
  switch (scenario) {
    case "valid":
      return {
        content: json({
          nodes: withExtraNode(baseline, {
            node_id: "model-verification",
            title: "Model-planned verification",
            agent: "verifier",
            depends_on: [first],
            gate: null,
          }),
        }),
      };
    case "fenced":
      return {
        content:
          "Here is the plan:\n```json\n" +
          json({
            nodes: withExtraNode(baseline, {
              node_id: "model-verification",
              title: "Model-planned verification",
              agent: "verifier",
              depends_on: [first],
              gate: null,
            }),
          }) +
          "\n```",
      };
    case "cycle":
      return {
        content: json([
          { node_id: "a", title: "A", agent: "scanner", depends_on: ["b"], gate: "POLICY_GATE" },
          { node_id: "b", title: "B", agent: "builder", depends_on: ["a"], gate: null },
        ]),
      };
    case "unknown_agent":
      return {
        content: json(
          withExtraNode(baseline, {
            node_id: "exfiltrate",
            title: "Exfiltrate",
            agent: "hacker",
            depends_on: [first],
            gate: null,
          }),
        ),
      };
    case "no_policy_gate":
      return { content: json(baseline.map((n) => ({ ...n, gate: n.gate === "POLICY_GATE" ? "TEST_GATE" : n.gate }))) };
    case "missing_guard":
      return {
        content: json([
          { node_id: "scanner", title: "Static scan", agent: "scanner", depends_on: [], gate: "POLICY_GATE" },
        ]),
      };
    case "missing_dep":
      return {
        content: json([
          { node_id: "scanner", title: "Static scan", agent: "scanner", depends_on: ["ghost"], gate: "POLICY_GATE" },
        ]),
      };
    case "bad_shape":
      return { content: json([{ node_id: "x", agent: "scanner" }]) };
    case "too_many":
      return {
        content: json(
          Array.from({ length: 30 }, (_, i) => ({
            node_id: `n${i}`,
            title: `N${i}`,
            agent: "scanner",
            depends_on: i === 0 ? [] : [`n${i - 1}`],
            gate: i === 0 ? "POLICY_GATE" : null,
          })),
        ),
      };
    case "garbage":
      return { content: "I would scan the repository first, then run its tests." };
    case "http_500":
      return { status: 500 };
    case "slow":
      return { delayMs: 3000, content: json(baseline) };
    default:
      return { status: 400 };
  }
}

export default async function setup({ provide }) {
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const send = (status, body) => {
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(404, { error: "not found" });
      if (req.headers.authorization !== `Bearer ${FAKE_MODEL_KEY}`) return send(401, { error: "bad key" });
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return send(400, { error: "bad json" });
      }
      if (body.model !== FAKE_MODEL_NAME) return send(400, { error: "unknown model" });
      const user = (body.messages ?? []).find((m) => m.role === "user");
      let facts = {};
      try {
        facts = JSON.parse(user?.content ?? "{}");
      } catch {
        return send(400, { error: "user message is not JSON" });
      }
      const scenario = /scenario:([a-z0-9_]+)/.exec(String(facts.objective ?? ""))?.[1] ?? "valid";
      const a = answer(scenario, facts);
      const reply = () => {
        if (a.status !== undefined) return send(a.status, { error: scenario });
        send(200, {
          id: "chatcmpl-fake",
          object: "chat.completion",
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: a.content }, finish_reason: "stop" }],
        });
      };
      if (a.delayMs) {
        // A client that gave up (the planner's timeout) closes the socket: answer nothing.
        const timer = setTimeout(reply, a.delayMs);
        res.on("close", () => clearTimeout(timer));
      } else reply();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  provide("plannerModelUrl", `http://127.0.0.1:${port}/v1`);
  return async () => {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  };
}
