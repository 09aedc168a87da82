// @ts-check
/**
 * A build's live event stream (GET /v1/builds/{id}/events, Server-Sent Events) for the live view.
 * EventSource cannot send headers, so each connection uses a short-lived build-scoped stream
 * token (POST …/events/token) in the query. After a network drop the browser reconnects by
 * itself and sends `Last-Event-ID`; when it gives up (or the 5-minute token has expired) we
 * reconnect with a fresh token and `?cursor=<last seq>`. Every event is delivered once: anything
 * at or below the last seq seen is dropped. Which event names to listen to comes with the token
 * (the server's catalogue). Also: how each event type reads in the timeline.
 */
import { builds } from "./api.js";

/** @typedef {"connecting" | "live" | "reconnecting" | "ended"} StreamState */

/**
 * @typedef {{
 *   onEvent: (event: import("./api.js").BuildEvent) => void,
 *   onState: (state: StreamState, detail?: string) => void,
 * }} StreamHandlers
 */

export class BuildEventStream {
  /**
   * @param {string} buildId
   * @param {StreamHandlers} handlers
   */
  constructor(buildId, handlers) {
    this.buildId = buildId;
    this.handlers = handlers;
    /** Highest seq delivered to `onEvent`. */
    this.lastSeq = 0;
    /** Set once the build's terminal BUILD_FINISHED (completed/aborted) was seen: the server then closes. */
    this.terminal = false;
    /** @type {EventSource | null} */
    this.source = null;
    this.closed = false;
    this.attempt = 0;
    /** How many connections were opened (1 = never reconnected). */
    this.connections = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
  }

  start() {
    void this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  /** Fetches anything after the last seq through the history API (used once the stream has ended). */
  async catchUp() {
    for (;;) {
      const page = await builds.events(this.buildId, this.lastSeq);
      for (const e of page.items) this.deliver(e);
      if (page.next_cursor === null || page.items.length === 0) return;
    }
  }

  async connect() {
    if (this.closed) return;
    this.handlers.onState(this.connections === 0 ? "connecting" : "reconnecting");
    let token;
    /** @type {readonly string[]} */
    let eventTypes;
    try {
      // The token's answer also names every event the stream may send: the server's catalogue,
      // so a new event type needs no dashboard change to be delivered.
      ({ token, event_types: eventTypes } = await builds.streamToken(this.buildId));
    } catch (err) {
      // 401 is handled globally (back to sign-in); anything else: try again later.
      if (/** @type {{ status?: number }} */ (err).status === 401) return this.close();
      return this.scheduleReconnect(err instanceof Error ? err.message : "stream token unavailable");
    }
    if (this.closed) return;
    const url = `/v1/builds/${encodeURIComponent(this.buildId)}/events?cursor=${this.lastSeq}&stream_token=${encodeURIComponent(token)}`;
    const source = new EventSource(url);
    this.source = source;
    this.connections += 1;
    source.onopen = () => {
      this.attempt = 0;
      this.handlers.onState("live");
    };
    /** @param {MessageEvent} message */
    const onMessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event && typeof event.seq === "number") this.deliver(event);
    };
    for (const type of eventTypes) source.addEventListener(type, onMessage);
    source.addEventListener("timeout", () => {
      // Idle timeout: the server closes; reconnect right away with a fresh token.
      source.close();
      if (!this.terminal) this.scheduleReconnect("idle timeout", 0);
    });
    source.onerror = () => {
      if (this.source !== source) return;
      if (this.terminal) {
        // The server closed the stream after the build's terminal events: done.
        source.close();
        this.source = null;
        this.handlers.onState("ended");
        return;
      }
      if (source.readyState === EventSource.CONNECTING) {
        // The browser reconnects by itself, sending Last-Event-ID.
        this.handlers.onState("reconnecting", "connection lost");
        return;
      }
      source.close();
      this.scheduleReconnect("connection closed");
    };
  }

  /** @param {string} why @param {number} [delayMs] */
  scheduleReconnect(why, delayMs) {
    if (this.closed) return;
    this.source = null;
    this.attempt += 1;
    const delay = delayMs ?? Math.min(15_000, 1000 * 2 ** Math.min(this.attempt - 1, 4));
    this.handlers.onState("reconnecting", why);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  /** @param {import("./api.js").BuildEvent} event */
  deliver(event) {
    if (event.seq <= this.lastSeq) return; // already shown (replay overlap after a reconnect)
    this.lastSeq = event.seq;
    if (event.event_type === "BUILD_FINISHED") {
      const final = event.payload.final_status;
      this.terminal = final === "completed" || final === "aborted";
    } else if (
      event.event_type === "BUILD_RESUMED" ||
      (event.event_type === "BUILD_STATUS_CHANGED" && event.payload.to_status === "running")
    ) {
      this.terminal = false;
    }
    this.handlers.onEvent(event);
  }
}

// ---- presentation ------------------------------------------------------------------------------

/** Timeline filter categories. */
export const CATEGORIES = /** @type {const} */ ([
  ["status", "Status"],
  ["tasks", "Tasks"],
  ["retries", "Retries & fallback"],
  ["gates", "Gates & policy"],
  ["replans", "Replans & debt"],
  ["checkpoints", "Checkpoints"],
  ["runtime", "Runtime"],
]);

/** @param {string} type @returns {string} */
export function categoryOf(type) {
  if (type.startsWith("BUILD_")) return "status";
  if (type === "TASK_RETRY_SCHEDULED" || type === "FALLBACK_MODE_SWITCHED") return "retries";
  if (type.startsWith("TASK_") || type === "RUNNER_RESULT" || type === "LEVEL_STARTED") return "tasks";
  if (type.endsWith("_GATE") || type === "POLICY_VIOLATION") return "gates";
  if (type.startsWith("REPLAN_") || type === "DEBT_ITEM_RECORDED") return "replans";
  if (type === "CHECKPOINT_CREATED") return "checkpoints";
  return "runtime";
}

/** @param {import("./api.js").BuildEvent} e @returns {"error" | "warn" | "ok" | ""} */
export function severityOf(e) {
  const p = e.payload ?? {};
  if (e.event_type.includes("FAILED") || p.status === "FAIL" || p.final_status === "failed" || p.to_status === "failed")
    return "error";
  if (e.event_type === "POLICY_VIOLATION" && p.blocking) return "error";
  if (
    e.event_type === "TASK_RETRY_SCHEDULED" ||
    e.event_type === "FALLBACK_MODE_SWITCHED" ||
    p.status === "BLOCKED" ||
    p.final_status === "aborted"
  )
    return "warn";
  if (e.event_type === "BUILD_ABORTED" || e.event_type === "POLICY_VIOLATION" || e.event_type === "REPLAN_DECISION")
    return "warn";
  if (e.event_type === "TASK_COMPLETED" || p.status === "PASS" || p.final_status === "completed") return "ok";
  return "";
}

/** One line of text for an event (SPEC §8.3: the reason if present, else a description). @param {import("./api.js").BuildEvent} e */
export function describe(e) {
  const p = e.payload ?? {};
  const attempt = p.attempt !== undefined ? ` (attempt ${p.attempt})` : "";
  switch (e.event_type) {
    case "BUILD_STATUS_CHANGED":
      return `Status ${p.from_status} → ${p.to_status}: ${p.reason} [${p.source}]`;
    case "BUILD_STARTED":
      return `Build started: ${(p.dag_nodes ?? []).length} nodes, scan mode ${p.scan_mode}`;
    case "LEVEL_STARTED":
      return `Level ${p.level} started: ${(p.nodes ?? []).join(", ")}`;
    case "TASK_STARTED":
      return `${p.node_id} started${attempt}`;
    case "TASK_COMPLETED":
    case "TASK_SKIPPED":
      return `${p.node_id} ${e.event_type === "TASK_COMPLETED" ? "completed" : "skipped"}${attempt}`;
    case "TASK_FAILED":
      return `${p.node_id} failed${attempt}${p.error ? `: ${p.error}` : ""}`;
    case "RUNNER_RESULT":
      return `${p.node_id}: ${p.runner} runner → ${p.status} in ${p.duration_ms} ms${p.error ? ` (${p.error})` : ""}`;
    case "TASK_RETRY_SCHEDULED":
      return `${p.node_id}: retry scheduled, attempt ${p.next_attempt}${p.retry_delay_ms !== undefined ? ` in ${p.retry_delay_ms} ms` : ""} (budget ${p.retry_budget})`;
    case "MERGE_GATE":
    case "TEST_GATE":
    case "POLICY_GATE":
      return `${e.event_type} ${p.status}${p.node_id ? ` on ${p.node_id}` : ""}: ${p.reason} [${p.source}]`;
    case "REPLAN_DECISION":
    case "REPLAN_SUGGESTED":
      return `${e.event_type === "REPLAN_SUGGESTED" ? "Replan suggested" : "Replan"} ${p.action}: ${p.reason}${(p.replacement_node_ids ?? []).length ? ` (+${p.replacement_node_ids.join(", ")})` : ""} [${p.source}]`;
    case "FALLBACK_MODE_SWITCHED":
      return `Fallback ${p.from_mode} → ${p.to_mode}: ${p.reason}`;
    case "CHECKPOINT_CREATED":
      return `Checkpoint at ${p.status}: ${p.reason}`;
    case "BUILD_RESUMED":
      return `Resumed: ${p.reason}`;
    case "BUILD_ABORTED":
      return `Aborted: ${p.reason}`;
    case "BUILD_FINISHED":
      return `Build finished (${p.final_status})`;
    case "POLICY_VIOLATION":
      return `${p.blocking ? "Blocking policy violation" : "Policy violation"} ${p.code}: ${p.message}`;
    case "DEBT_ITEM_RECORDED":
      return `Debt on ${p.node_id} (${p.severity}): ${p.summary}`;
    case "RUNTIME_BOOTSTRAPPED":
      return `Runtime bootstrapped${p.runtime_owner ? ` by ${p.runtime_owner}` : ""}`;
    default:
      return typeof p.reason === "string" ? p.reason : `${e.event_type} event received`;
  }
}
