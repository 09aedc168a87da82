/**
 * Issue 21, results back with real findings: a GitHub push starts a build whose nodes go to the
 * runner (this suite configures one; only the outbound fetch to http://runner.test is stubbed,
 * as in http-runner.test.ts); the runner reports findings through signed callbacks; when the build
 * finishes, the fake GitHub API on loopback (test/github/fake-github-server.mjs, a real server)
 * receives a check run whose annotations are the most severe located findings (at most 50).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signStandardWebhook } from "../../src/builds/runner-protocol";
import { fromBase64 } from "../../src/lib/crypto";
import { raw, waitForStatus } from "../helpers/api";
import { GITHUB_TOKEN, bind, deliver, pushPayload, recorded, sha, tenant, waitForRecorded } from "../github/helpers";

interface Sent {
  body: any;
}
let sent: Sent[] = [];
const realFetch = globalThis.fetch;

beforeEach(() => {
  sent = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith("http://runner.test/")) return realFetch(input, init);
    sent.push({ body: JSON.parse(await req.text()) });
    return new Response(JSON.stringify({ accepted: true }), { status: 202 });
  });
});
afterEach(() => vi.restoreAllMocks());

/** A result callback signed with the run's own key from its dispatch. */
async function report(dispatch: any, msg: Record<string, unknown>) {
  const body = JSON.stringify(msg);
  const key = fromBase64(dispatch.callback_token.slice("cbk_".length))!;
  const headers = await signStandardWebhook(key, `cb_${crypto.randomUUID()}`, body);
  const res = await raw("/v1/runner/callback", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
  });
  expect(res.status).toBe(202);
}

/** Answers every dispatch of the build as the runner would; the first node reports `findings`. */
async function runBuild(buildId: string, findings: unknown[], isDone: () => Promise<boolean>) {
  const answered = new Set<string>();
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const s of sent.filter((x) => x.body.build_id === buildId)) {
      const key = `${s.body.task_run_id}#${s.body.attempt}`;
      if (answered.has(key)) continue;
      const first = answered.size === 0;
      answered.add(key);
      await report(s.body, {
        type: "result",
        build_id: buildId,
        task_run_id: s.body.task_run_id,
        attempt: s.body.attempt,
        status: "completed",
        duration_ms: 5,
        findings: first ? findings : [],
      });
    }
    if (await isDone()) return;
    if (Date.now() > deadline) throw new Error(`build ${buildId} did not finish`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const manyInfo = Array.from({ length: 60 }, (_, i) => ({
  severity: "info",
  category: "inventory",
  title: `Info ${i}`,
  file: `docs/f${i}.md`,
  line: i + 1,
}));

describe("GitHub push → real findings → check run with annotations", () => {
  it("reports the finished build's conclusion, summary and top findings as annotations", async () => {
    const t = await tenant("org_gh_annotations");
    await bind(t, "acme/annotated", { push_branches: ["main"] });
    const after = sha("annotated");
    const res = await deliver(t.id, "push", pushPayload("acme/annotated", "main", after));
    expect(res.body.outcome).toBe("build_started");
    const buildId = res.body.build_id as string;

    await runBuild(
      buildId,
      [
        {
          severity: "high",
          category: "secret",
          title: "Committed AWS key",
          file: "./src/config.ts",
          line: 12,
          rule_id: "secret/aws",
        },
        { severity: "medium", category: "lint", title: "Unsafe eval", file: "src/run.js", line: 3, end_line: 5 },
        { severity: "low", category: "inventory", title: "No lockfile" },
        ...manyInfo,
      ],
      async () =>
        ["completed", "failed", "aborted"].includes(
          (await t.admin.request("GET", `/v1/builds/${buildId}`)).body.status,
        ),
    );
    const build = await waitForStatus(t.admin, buildId);
    expect(build.metadata.runner_kind).toBe("http");
    expect(build.status).toBe("completed");

    const run = await waitForRecorded("acme/annotated", (r) => r.path === "/repos/acme/annotated/check-runs");
    expect(run.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`);
    expect(run.body).toMatchObject({
      name: "Clarity scan",
      head_sha: after,
      status: "completed",
      conclusion: "success",
      external_id: buildId,
      output: { title: "Build completed: 63 findings" },
    });
    expect(run.body.output.summary).toContain("1 high, 1 medium, 1 low, 60 info");
    const annotations = run.body.output.annotations as any[];
    expect(annotations).toHaveLength(50);
    expect(annotations[0]).toEqual({
      path: "src/config.ts",
      start_line: 12,
      end_line: 12,
      annotation_level: "failure",
      message: "[high] Committed AWS key",
      title: "secret/aws",
    });
    expect(annotations[1]).toMatchObject({
      path: "src/run.js",
      start_line: 3,
      end_line: 5,
      annotation_level: "warning",
    });
    // The low finding has no location: not annotated; the rest are info notices.
    expect(annotations.slice(2).every((a) => a.annotation_level === "notice")).toBe(true);
    expect((await recorded("acme/annotated")).filter((r) => r.path.endsWith("/check-runs"))).toHaveLength(1);
  });
});
