import { describe, expect, it } from "vitest";
import { precheckNode, referencedPaths, shellSplit } from "../../src/builds/execution-policy";

const ROOT = "/home/daytona/repo";
const check = (metadata: Record<string, unknown>, runnerKind = "openhands", agent = "scanner") =>
  precheckNode({ metadata, nodeId: "n", agent, runnerKind })?.code ?? null;

describe("shellSplit / referencedPaths", () => {
  it("splits quotes and control tokens", () => {
    expect(shellSplit(`ls -la "./my dir" && cat 'a b'|wc -l;echo x`)).toEqual(["ls", "-la", "./my dir", "&&", "cat", "a b", "|", "wc", "-l", ";", "echo", "x"]);
  });
  it("takes ., .., /…, ./…, ../… and tokens with /; skips flags and URLs; keeps .. unnormalised", () => {
    expect(referencedPaths("cp -r . ../x src/a https://h/p /tmp/y", ROOT)).toEqual([ROOT, `${ROOT}/../x`, `${ROOT}/src/a`, "/tmp/y"]);
  });
});

describe("precheckNode", () => {
  it.each([
    [{ runner_results: { n: { command: "rm -rf /" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "RM -fr build" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "git clean -fdx" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "dd if=/dev/zero of=/dev/sda" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "sudo shutdown now" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "mkfs.ext4 /dev/x" } } }, "blocked_command"],
    [{ node_policy: { n: { blocked_commands: ["npm publish"] } }, runner_results: { n: { command: "NPM PUBLISH" } } }, "blocked_command"],
    [{ runner_results: { n: { command: "cat .git/config" } } }, "blocked_path"],
    [{ runner_results: { n: { command: "cat ~/.ssh/id_rsa ./.ssh/id_rsa" } } }, "blocked_path"],
    [{ runner_results: { n: { command: "ls /root" } } }, "blocked_path"],
    [{ policy_blocked_paths: ["secrets"], runner_results: { n: { command: "cat secrets/prod.key" } } }, "blocked_path"],
    [{ policy_allowed_paths: ["src"], runner_results: { n: { command: "cat lib/x.ts" } } }, "path_outside_allowlist"],
    [{ policy_allowed_paths: ["src"], runner_results: { n: { command: "cat src/x.ts" } } }, null],
    [{ required_capabilities: ["a"], node_required_capabilities: { n: ["b"] }, executor_capabilities: ["a"] }, "missing_capability"],
    [{ required_capabilities: ["a", "b"], capabilities: ["*"] }, null],
    [{ node_policy: { n: { required_capabilities: ["x"] } } }, "missing_capability"],
    [{}, null],
  ])("%j → %s", (metadata, code) => {
    expect(check(metadata)).toBe(code);
  });

  it("uses the default agent command only for daytona_shell", () => {
    expect(check({ policy_blocked_commands: ["npm test"] }, "openhands", "builder")).toBeNull();
    expect(check({ policy_blocked_commands: ["npm test"] }, "daytona_shell", "builder")).toBe("blocked_command");
  });

  it("reports the right messages", () => {
    expect(precheckNode({ metadata: { required_capabilities: ["x"] }, nodeId: "scan", agent: "scanner", runnerKind: "openhands" })?.message).toBe("Node 'scan' missing required execution capability.");
    expect(precheckNode({ metadata: { runner_results: { n: { command: "rm -rf /" } } }, nodeId: "n", agent: "s", runnerKind: "x" })?.message).toBe("Command blocked by execution policy.");
  });
});
