/**
 * ReplayGuard — the authoritative, atomic claim-with-TTL store for webhook nonces/delivery ids
 * and idempotency keys (DESIGN §2, §7). Sharded: the worker picks one of REPLAY_GUARD_SHARDS
 * instances by a hash of the key (replay-guard.client.ts). Each RPC parses its input, reads the
 * record, applies the pure decision from replay-guard.ts and writes it with the synchronous
 * SQLite API, so no two requests interleave between read and write. `alarm()` deletes expired
 * records; expiry is also checked on every read, so cleanup timing never affects a decision.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type ClaimInput,
  ClaimInputSchema,
  type ClaimOutcome,
  type ClaimRecord,
  ClaimRecordSchema,
  type CompleteInput,
  CompleteInputSchema,
  type GuardResult,
  type ReleaseInput,
  ReleaseInputSchema,
  StoredResponseSchema,
  decideClaim,
  decideComplete,
  mayRelease,
} from "./replay-guard";

/** Cleanup runs this long after the earliest expiry, so one alarm sweeps many records. */
const GC_SLACK_MS = 60_000;
const SCHEMA_VERSION = 1;

export class ReplayGuard extends DurableObject<Env> {
  /** The scheduled cleanup alarm as this instance last set or read it (undefined: not read yet). */
  private alarmAt: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => this.ensureSchema());
  }

  /** Claims `key` unless a live record holds it; see ClaimOutcome. */
  async claim(raw: ClaimInput): Promise<ClaimOutcome> {
    const input = ClaimInputSchema.parse(raw);
    const { outcome, write } = decideClaim(this.read(input.key), input, Date.now());
    if (write) await this.write(write);
    return outcome;
  }

  /** Marks the caller's pending claim done, keeping `response` for `ttl_ms`. */
  async complete(raw: CompleteInput): Promise<GuardResult> {
    const input = CompleteInputSchema.parse(raw);
    const { result, write } = decideComplete(this.read(input.key), input, Date.now());
    if (write) await this.write(write);
    return result;
  }

  /** Drops the caller's pending claim (the request failed retryably); done records stay. */
  async release(raw: ReleaseInput): Promise<GuardResult> {
    const input = ReleaseInputSchema.parse(raw);
    if (!mayRelease(this.read(input.key), input)) return { ok: false, code: "claim_lost" };
    this.ctx.storage.sql.exec("DELETE FROM claims WHERE key = ?", input.key);
    return { ok: true };
  }

  /** TTL cleanup: delete expired records, re-arm for the next expiry. */
  async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM claims WHERE expires_at <= ?", now);
    const next = this.ctx.storage.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM claims")
      .one().next;
    this.alarmAt = null;
    if (next !== null) await this.setAlarm(Math.max(next, now) + GC_SLACK_MS);
  }

  private async setAlarm(at: number): Promise<void> {
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  private read(key: string): ClaimRecord | null {
    const row = this.ctx.storage.sql
      .exec("SELECT key, token, fingerprint, state, response, expires_at FROM claims WHERE key = ?", key)
      .toArray()[0];
    if (row === undefined) return null;
    const response = typeof row.response === "string" ? StoredResponseSchema.parse(JSON.parse(row.response)) : null;
    return ClaimRecordSchema.parse({ ...row, response });
  }

  private async write(r: ClaimRecord): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO claims (key, token, fingerprint, state, response, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET token = excluded.token, fingerprint = excluded.fingerprint,
         state = excluded.state, response = excluded.response, expires_at = excluded.expires_at`,
      r.key,
      r.token,
      r.fingerprint,
      r.state,
      r.response === null ? null : JSON.stringify(r.response),
      r.expires_at,
    );
    // Only this object sets its alarm, so after one read the time is known without asking storage.
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    const wanted = r.expires_at + GC_SLACK_MS;
    if (this.alarmAt === null || this.alarmAt > wanted) await this.setAlarm(wanted);
  }

  private ensureSchema(): void {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS guard_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
    const version = sql.exec<{ v: number }>("SELECT v FROM guard_meta WHERE k = 'schema'").toArray()[0]?.v ?? 0;
    if (version < 1) {
      sql.exec(`CREATE TABLE IF NOT EXISTS claims (
        key TEXT PRIMARY KEY, token TEXT NOT NULL, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
        response TEXT, expires_at INTEGER NOT NULL)`);
      sql.exec("CREATE INDEX IF NOT EXISTS claims_expires_idx ON claims (expires_at)");
    }
    sql.exec("INSERT OR REPLACE INTO guard_meta (k, v) VALUES ('schema', ?)", SCHEMA_VERSION);
  }
}
