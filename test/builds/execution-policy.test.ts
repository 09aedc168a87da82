import { describe, expect, it } from "vitest";
import {
  builtinBlockedRule,
  commandInMetadata,
  precheckNode,
  referencedPaths,
  runnerCommand,
  shellSplit,
} from "../../src/builds/execution-policy";
import { parseRunSettings } from "../../src/builds/engine/run-settings";

const ROOT = "/home/daytona/repo";
const check = (metadata: Record<string, unknown>, command: string | null = null) =>
  precheckNode({ settings: parseRunSettings(metadata), nodeId: "n", command })?.code ?? null;

describe("shellSplit / referencedPaths", () => {
  it("splits quotes and control tokens", () => {
    expect(shellSplit(`ls -la "./my dir" && cat 'a b'|wc -l;echo x`)).toEqual([
      "ls",
      "-la",
      "./my dir",
      "&&",
      "cat",
      "a b",
      "|",
      "wc",
      "-l",
      ";",
      "echo",
      "x",
    ]);
  });
  it("takes ., .., /…, ./…, ../… and tokens with /; skips flags and URLs; keeps .. unnormalised", () => {
    expect(referencedPaths("cp -r . ../x src/a https://h/p /tmp/y", ROOT)).toEqual([
      ROOT,
      `${ROOT}/../x`,
      `${ROOT}/src/a`,
      "/tmp/y",
    ]);
  });
});

describe("precheckNode", () => {
  it.each([
    [{}, "rm -rf /", "blocked_command"],
    [{}, "RM -fr build", "blocked_command"],
    [{}, "git clean -fdx", "blocked_command"],
    [{}, "dd if=/dev/zero of=/dev/sda", "blocked_command"],
    [{}, "sudo shutdown now", "blocked_command"],
    [{}, "mkfs.ext4 /dev/x", "blocked_command"],
    [{ node_policy: { n: { blocked_commands: ["npm publish"] } } }, "NPM PUBLISH", "blocked_command"],
    [{}, "cat .git/config", "blocked_path"],
    [{}, "cat ~/.ssh/id_rsa ./.ssh/id_rsa", "blocked_path"],
    [{}, "ls /root", "blocked_path"],
    [{ policy_blocked_paths: ["secrets"] }, "cat secrets/prod.key", "blocked_path"],
    [{ policy_allowed_paths: ["src"] }, "cat lib/x.ts", "path_outside_allowlist"],
    [{ policy_allowed_paths: ["src"] }, "cat src/x.ts", null],
    [
      { required_capabilities: ["a"], node_required_capabilities: { n: ["b"] }, executor_capabilities: ["a"] },
      null,
      "missing_capability",
    ],
    [{ required_capabilities: ["a", "b"], capabilities: ["*"] }, null, null],
    [{ node_policy: { n: { required_capabilities: ["x"] } } }, null, "missing_capability"],
    [{ policy_blocked_commands: ["rm"] }, null, null],
    [{}, null, null],
  ])("%j, %s → %s", (metadata, command, code) => {
    expect(check(metadata, command)).toBe(code);
  });

  it("inspects the runner's own command for a role, never one from metadata", () => {
    expect(
      check(
        { policy_blocked_commands: ["npm test"], runner_results: { n: { command: "rm -rf /" } } },
        runnerCommand("builder"),
      ),
    ).toBe("blocked_command");
    expect(check({ runner_results: { n: { command: "rm -rf /" } } }, runnerCommand("scanner"))).toBeNull();
    expect(runnerCommand("planner")).toBeNull();
  });

  it("reports the right messages and the rule", () => {
    expect(
      precheckNode({ settings: parseRunSettings({ required_capabilities: ["x"] }), nodeId: "scan", command: null })
        ?.message,
    ).toBe("Node 'scan' missing required execution capability.");
    const denial = precheckNode({ settings: parseRunSettings({}), nodeId: "n", command: "rm -rf /" });
    expect(denial?.message).toBe("Command blocked by execution policy.");
    expect(denial?.details).toEqual({ rule: "rm -rf" });
  });
});

describe("built-in rules are linear (issue 15 item 7)", () => {
  const SIZE = 256 * 1024;
  const fill = (prefix: string, unit: string, suffix = "") =>
    prefix + unit.repeat(Math.ceil((SIZE - prefix.length) / unit.length)).slice(0, SIZE - prefix.length) + suffix;

  // Each input is the worst case of one pattern at 256 KiB; the old `rm` rule needed ~70 s on the
  // second one. Correctness is asserted; the time is the vitest timeout's business (and
  // `npm run bench:policy` prints it).
  it.each([
    ["rm -rrrr… without f", fill("rm -", "r"), null],
    ["rm -rrrr…f", fill("rm -", "r", "f"), "rm -rf"],
    ["rm -ffff…r then a digit (no word boundary)", fill("rm -", "f", "r9"), null],
    ["rm -rrrr… then -f in another cluster", fill("rm -", "r", " -f"), null],
    ["rm -r rm -r … rm -rf at the end", fill("", "rm -r ", " rm -Rf x"), "rm -rf"],
    ["git clean -dddd…", fill("git clean -", "d"), null],
    ["git clean -dddd…f", fill("git clean -", "d", "f"), "git clean -f"],
    ["dd if=aaaa… of=/dev/sda", fill("dd if=", "a", " of=/dev/sda"), "dd of=/dev/"],
    ["dd if=aaaa… (no of)", fill("dd if=", "a"), null],
    ["words", fill("echo ", "word "), null],
    ["many words then shutdown", fill("echo ", "word ", " shutdown"), "shutdown"],
  ])("%s", (_name, command, rule) => {
    expect(command.length).toBeGreaterThanOrEqual(SIZE);
    expect(builtinBlockedRule(command)).toBe(rule);
  });

  it("the whole pre-check on a 256 KiB command with many paths", () => {
    const command = fill("cat ", "./src/a/b ", " ./lib/x");
    const denial = precheckNode({
      settings: parseRunSettings({ policy_allowed_paths: ["src"] }),
      nodeId: "n",
      command,
    });
    expect(denial).toMatchObject({ code: "path_outside_allowlist", details: { path: `${ROOT}/lib/x` } });
    expect(referencedPaths(command, ROOT)).toHaveLength(Math.ceil((SIZE - 4) / 10) + 1);
  });
});

describe("commandInMetadata (issue 15 item 3)", () => {
  it.each([
    [{ runner_results: { scan: { command: "ls" } } }, "metadata.runner_results.scan.command"],
    [
      { runner_results: { scan: { status: "ok" }, build: { commands: ["make"] } } },
      "metadata.runner_results.build.commands",
    ],
    [{ command: "npm test" }, "metadata.command"],
    [{ node_policy: { b: { script: "x" } } }, "metadata.node_policy.b.script"],
    [
      {
        runner_results: { scan: { status: "failed", error: "x" } },
        node_policy: { b: { blocked_commands: ["curl"] } },
      },
      null,
    ],
    [{}, null],
  ])("%j → %s", (metadata, path) => {
    expect(commandInMetadata(metadata)).toBe(path);
  });
});
