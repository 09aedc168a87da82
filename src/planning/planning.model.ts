/**
 * The optional model-backed planner: asks an OpenAI-compatible chat completions endpoint
 * (PLANNER_MODEL_URL + "/chat/completions", bearer PLANNER_MODEL_API_KEY) for a DAG blueprint.
 * This module only talks to the model and turns its answer into a `ModelOutcome`; validation of
 * the proposal is the pure engine's (policy-engine.ts `validateProposal`). Time-boxed with
 * AbortSignal.timeout; never throws — any failure is an "unavailable" outcome with its reason.
 */
import type { HistorySummary } from "./history";
import type { BasePlan, ModelOutcome } from "./policy-engine";
import type { PlannerPolicyDocument, RepoSignals } from "./planning.schemas";

export interface ModelEndpoint {
  /** Base URL of the OpenAI-compatible API, e.g. https://api.openai.com/v1. */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

export interface ModelPromptInput {
  objective: string;
  repoUrl: string;
  intake: unknown;
  repoSignals: RepoSignals | null;
  history: HistorySummary;
  base: BasePlan;
  policy: PlannerPolicyDocument;
}

/** Largest response body read from the model (bytes of text). */
const MAX_RESPONSE_CHARS = 256 * 1024;

/** The chat messages sent to the model: the rules, then the facts as JSON. */
export function buildMessages(input: ModelPromptInput): Array<{ role: "system" | "user"; content: string }> {
  const doc = input.policy;
  const required = doc.model.require_guard_nodes ? input.base.guard_nodes : [];
  const rules = [
    "You plan the DAG of an automated code-scan build. Reply with JSON only, no prose:",
    '{"nodes":[{"node_id":"…","title":"…","agent":"…","depends_on":["…"],' +
      '"gate":null|"TEST_GATE"|"POLICY_GATE"|"MERGE_GATE"}]}',
    `Rules: node ids unique; depends_on names other nodes of the list; no cycles; agents only from ` +
      `[${doc.allowed_agents.join(", ")}];`,
    `at most ${doc.model.max_nodes ?? doc.max_nodes} nodes;`,
    doc.model.require_policy_gate ? "at least one node has gate POLICY_GATE;" : "",
    required.length > 0 ? `include these node ids: ${required.join(", ")};` : "",
    "start from baseline_plan and change it only where the facts justify it.",
  ].filter((s) => s !== "");
  const h = input.history;
  const facts = {
    objective: input.objective,
    repo_url: input.repoUrl,
    project_intake: input.intake ?? null,
    repo_signals: input.repoSignals,
    history: {
      builds_considered: h.builds_considered,
      build_failure_rate: h.build_failure_rate,
      fallback_rate: h.fallback_rate,
      node_failure_rates: Object.fromEntries(Object.entries(h.nodes).map(([k, v]) => [k, v.failure_rate])),
    },
    baseline_plan: input.base.dag.map(({ node_id, title, agent, depends_on, gate }) => ({
      node_id,
      title,
      agent,
      depends_on,
      gate,
    })),
  };
  return [
    { role: "system", content: rules.join(" ") },
    { role: "user", content: JSON.stringify(facts) },
  ];
}

/**
 * The blueprint inside a chat completion's content: JSON (optionally in a ``` fence) that is a
 * node list or an object holding one under `nodes`, `dag` or `blueprint`. Undefined when the
 * content is not JSON.
 */
export function extractProposal(content: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(content);
  const text = (fenced?.[1] ?? content).trim();
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const key of ["nodes", "dag", "blueprint"]) if (Array.isArray(o[key])) return o[key];
  }
  return value;
}

function chatContent(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return null;
  const first: unknown = choices[0];
  if (typeof first !== "object" || first === null) return null;
  const message = (first as { message?: unknown }).message;
  if (typeof message !== "object" || message === null) return null;
  const content = (message as { content?: unknown }).content;
  return typeof content === "string" ? content : null;
}

/** Asks the model for a blueprint. Never throws: failures are `unavailable` outcomes. */
export async function proposeBlueprint(
  endpoint: ModelEndpoint,
  input: ModelPromptInput,
  fetchImpl: typeof fetch = fetch,
): Promise<ModelOutcome> {
  const url = `${endpoint.url.replace(/\/+$/, "")}/chat/completions`;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: endpoint.model, temperature: 0, messages: buildMessages(input) }),
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    if (name === "TimeoutError" || name === "AbortError") {
      return { status: "unavailable", reason: "model_timeout", detail: `no answer within ${endpoint.timeoutMs} ms` };
    }
    return {
      status: "unavailable",
      reason: "model_unreachable",
      detail: `request failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
    };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    const reason = name === "TimeoutError" || name === "AbortError" ? "model_timeout" : "model_unreachable";
    return { status: "unavailable", reason, detail: `reading the answer failed within ${endpoint.timeoutMs} ms` };
  }
  if (!res.ok)
    return { status: "unavailable", reason: "model_http_error", detail: `HTTP ${res.status} from the model endpoint` };
  if (text.length > MAX_RESPONSE_CHARS)
    return {
      status: "unavailable",
      reason: "model_response_invalid",
      detail: `answer larger than ${MAX_RESPONSE_CHARS} characters`,
    };
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return { status: "unavailable", reason: "model_response_invalid", detail: "the answer is not JSON" };
  }
  const content = chatContent(body);
  if (content === null)
    return {
      status: "unavailable",
      reason: "model_response_invalid",
      detail: "no choices[0].message.content in the answer",
    };
  const proposal = extractProposal(content);
  if (proposal === undefined)
    return { status: "unavailable", reason: "model_response_invalid", detail: "the message content is not JSON" };
  return { status: "proposed", model: endpoint.model, proposal };
}
