/**
 * Policy profiles and policy-check (SPEC §6.2, quirks 7 and 8 fixed): profiles are tenant-scoped;
 * a BLOCK with a build id is written back as a blocking violation through the build's Durable
 * Object (which fails a running build and leaves a paused one). The build must exist in the
 * caller's tenant (else 404 build_not_found, so other tenants' builds are neither touched nor
 * revealed) and be visible to the caller (else 403 build_access_denied). Called by program.routes.ts.
 */
import { z } from "zod";
import { actorOf } from "../audit/audit";
import { getBuildRow } from "../builds/builds.repo";
import { type Deps, authorizeBuild } from "../builds/builds.service";
import { recordPolicyViolation } from "../builds/control.service";
import { AppError } from "../kernel/errors";
import { isoTimestamp, newId } from "../lib/ids";
import type { ProgramDeps } from "./campaigns.service";
import { decidePolicy } from "./policy-decision";
import * as repo from "./policy.repo";
import { decodeCursor, page } from "../kernel/cursor";
import type { PageQuery, PolicyCheckRequest, PolicyProfileCreateRequest } from "./program.schemas";

/** The `source` of violations written back by policy-check. */
export const POLICY_PROFILE_SOURCE = "policy_profile";

function profileDto(row: repo.PolicyProfileRow) {
  return {
    profile_id: row.profileId,
    name: row.name,
    blocked_commands: row.blockedCommands,
    restricted_paths: row.restrictedPaths,
    finding_thresholds: row.findingThresholds ?? null,
    created_by: row.createdBy,
    created_at: row.createdAt,
  };
}

async function loadProfile(deps: ProgramDeps, profileId: string) {
  const row = await repo.getProfile(deps.db, deps.principal.tenantId, profileId);
  if (!row) throw new AppError("policy_profile_not_found", "Policy profile not found.");
  return row;
}

export async function createProfile(deps: ProgramDeps, body: PolicyProfileCreateRequest) {
  const row: repo.PolicyProfileRow = {
    profileId: newId(),
    tenantId: deps.principal.tenantId,
    name: body.name,
    blockedCommands: body.blocked_commands,
    restrictedPaths: body.restricted_paths,
    findingThresholds: body.finding_thresholds ?? null,
    createdBy: deps.principal.sub,
    createdAt: isoTimestamp(Date.now()),
  };
  await repo.insertProfile(deps.db, row, {
    actor: actorOf(deps),
    action: "policy.write",
    target_type: "policy_profile",
    target_id: row.profileId,
    detail: { name: row.name },
  });
  return profileDto(row);
}

export async function getProfile(deps: ProgramDeps, profileId: string) {
  return profileDto(await loadProfile(deps, profileId));
}

export async function listProfiles(deps: ProgramDeps, q: PageQuery) {
  const after = q.cursor ? decodeCursor(q.cursor, 2) : undefined;
  const rows = await repo.listProfiles(
    deps.db,
    deps.principal.tenantId,
    q.limit + 1,
    after ? { createdAt: after[0] as string, profileId: after[1] as string } : undefined,
  );
  return page(rows, q.limit, profileDto, (r) => [r.createdAt, r.profileId]);
}

/**
 * Build creation hook (issue 16): a build created with `metadata.policy_profile_id` gets that
 * profile's finding thresholds for its POLICY_GATE (the tenant's profile; 404
 * policy_profile_not_found otherwise). A build names thresholds itself or through a profile, not
 * both (422), so a profile's gate is never silently overridden.
 */
export async function profileFindingThresholds(deps: Deps, metadata: Record<string, unknown>) {
  const id = metadata.policy_profile_id;
  if (id === undefined) return {};
  const invalid = (message: string) =>
    new AppError("validation_failed", "metadata.policy_profile_id is not valid.", {
      errors: [{ path: "metadata.policy_profile_id", message }],
    });
  if (typeof id !== "string" || !z.uuid().safeParse(id).success) throw invalid("a policy profile id (UUID)");
  if (metadata.finding_thresholds !== undefined) throw invalid("name finding_thresholds or a policy profile, not both");
  const profile = await loadProfile(deps, id);
  return profile.findingThresholds ? { finding_thresholds: profile.findingThresholds } : {};
}

/** The build a policy-check writes back to: in the caller's tenant and visible to the caller. */
async function authorizeWriteBack(deps: Deps, buildId: string): Promise<void> {
  const row = await getBuildRow(deps.db, buildId);
  if (!row || row.tenantId !== deps.principal.tenantId) throw new AppError("build_not_found", "Build not found.");
  await authorizeBuild(deps, buildId);
}

export async function checkPolicy(deps: Deps, body: PolicyCheckRequest) {
  const profile = await loadProfile(deps, body.profile_id);
  const buildId = body.build_id ?? null;
  // Checked before deciding, so an unknown build is reported whatever the decision.
  if (buildId !== null) await authorizeWriteBack(deps, buildId);
  const decision = decidePolicy(
    { blocked_commands: profile.blockedCommands, restricted_paths: profile.restrictedPaths },
    body.command,
    body.path,
  );
  const violation =
    decision.action === "BLOCK" && buildId !== null && decision.violation_code !== null
      ? await recordPolicyViolation(deps, buildId, {
          code: decision.violation_code,
          message: decision.reason,
          source: POLICY_PROFILE_SOURCE,
          blocking: true,
        })
      : null;
  return { ...decision, build_id: buildId, violation };
}
