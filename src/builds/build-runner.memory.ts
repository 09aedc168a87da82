/**
 * What a BuildRunner keeps in memory besides its run state (issue 9 hot paths): the view of its
 * last commit that answers GET /v1/builds/{id} (build-view.ts applies each committed draft), and
 * the number of findings its commits stored (announced at finish without a D1 count). Both are
 * exact only while every write of the build is this runner's commit; a commit with an unknown
 * outcome forgets the count. Used by build-runner.do.ts only.
 */
import { type BuildView, applyDraft } from "./build-view";
import type { Draft } from "./run-machine";

export class RunnerMemory {
  private kept: BuildView | null = null;
  /** Commits started: a view load that overlapped one is not kept. */
  private commits = 0;
  /** Findings stored for this build (null: not known since a restart or a failed commit). */
  private findings: number | null = null;

  /** The kept view, else `load()` (kept when no commit overlapped it); null when the build is unknown. */
  async view(load: () => Promise<BuildView | null>): Promise<BuildView | null> {
    if (this.kept) return this.kept;
    const seen = this.commits;
    const view = await load();
    if (view && seen === this.commits) this.kept = view;
    return view;
  }

  /** Runs the write of `d`; on success the view follows it, on failure it is dropped (reloaded on the next read). */
  async commit(d: Draft, created: boolean, write: () => Promise<void>): Promise<void> {
    const prior = created ? null : this.kept;
    this.kept = null;
    try {
      await write();
    } finally {
      this.commits++;
    }
    // Also replaces a view a load cached while the batch was in flight (it may predate it).
    this.kept = prior || created ? applyDraft(prior, d) : null;
    if (created) this.findings = 0;
    if (this.findings !== null) this.findings += d.findings.length;
  }

  /** A commit whose outcome is unknown: the findings stored are counted again at finish. */
  forgetFindings(): void {
    this.findings = null;
  }

  /** The findings count, or `count()` (D1) when it is not known. */
  findingsTotal(count: () => Promise<number>): Promise<number> {
    return this.findings !== null ? Promise.resolve(this.findings) : count();
  }
}
