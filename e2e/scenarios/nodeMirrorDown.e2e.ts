/**
 * Node.js at a first boot while the package mirror is unreachable: the test's repository refuses
 * every connection for the guest's first 90 s of trying (counted from its first connection, so a
 * slow boot on a busy host cannot skip the outage). The installer reports each failed attempt,
 * installs once the mirror answers, and the worker starts once, after Succeeded.
 */
import * as assert from "assert";
import { nodeFirstBootScenario } from "../lib/nodeFirstBoot";
import { attemptLines } from "../lib/nodeInstall";
import { Scenario } from "../lib/scenario";

const MIRROR_DOWN_MS = 90_000;
const FAILED_ATTEMPT =
  /attempt \d+: apt-get update exit \d+: [EW]: .*; apt-get install failed \(exit \d+\): E: .*; next try in \d+ s$/;

nodeFirstBootScenario(
  "node-mirror-down",
  "Node.js at a first boot with the mirror refusing connections for 90 s: retried, installed, worker once after Succeeded",
  {
    beforeBoot: (s: Scenario) => s.repo.refuseFirst(MIRROR_DOWN_MS),
    assertAttempts: (s, installed) => {
      const firstTry = s.repo.refused[0];
      const upAt = s.repo.upSince();
      assert.ok(firstTry, "the guest never met the refusing mirror");
      assert.strictEqual(upAt - firstTry, MIRROR_DOWN_MS);
      const down = attemptLines(s).filter((l) => l.at < upAt);
      assert.ok(down.length >= 2, `fewer than two attempts met the mirror down (${down.length})`);
      for (const line of down) assert.match(line.text, FAILED_ATTEMPT);
      assert.ok(installed.at >= upAt, "installed while the mirror refused connections");
      assert.ok(
        s.repo.requests.every((r) => r.at >= upAt),
        "the repository served a request while it was down",
      );
    },
  },
);
