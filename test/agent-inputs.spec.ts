/**
 * What the waiter accepts, at the edges: its flags, the plain-text values IMDS serves
 * (resourceId, azEnvironment, vmId) and the Retry-After headers. Each input is either taken
 * whole or refused whole; nothing half-matching slips through. The common cases are in
 * agent-args.spec.ts.
 */
import { strict as assert } from "assert";
import { parseArgs } from "../agent/src/core/args";
import { parseAzEnvironment, parseVmUuid } from "../agent/src/core/imds";
import { parseVmId } from "../agent/src/core/resourceId";
import { retryAfterMs } from "../agent/src/core/retryAfter";
import { DEFAULT_RESOURCE_ID, DEFAULT_VM_ID, FLEXIBLE_RESOURCE_ID } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate } from "../testkit/fake-azure/simulate";

const run = (options: Record<string, unknown>) => ({
  kind: "run",
  options: { imdsUrl: "http://169.254.169.254", timeoutSeconds: 7200, ...options },
});
const error = (message: string) => ({ kind: "error", message });

describe("agent core: inputs at the edges (flags, IMDS text, Retry-After)", () => {
  describe("flags", () => {
    it("defaults to the link-local IMDS and a 2 h timeout, and reads each flag into its own option", () => {
      const cases: Array<[string[], unknown]> = [
        [[], run({})],
        [["--arm-url", "http://arm"], run({ armUrl: "http://arm" })],
        [["--imds-url", "http://imds"], run({ imdsUrl: "http://imds" })],
        [["--imds-url=http://a", "--imds-url=http://b"], run({ imdsUrl: "http://b" })],
        [["--imds-url", "HTTPS://Example.COM:8443/a/b//"], run({ imdsUrl: "https://example.com:8443/a/b" })],
        [["--timeout", " 90 "], run({ timeoutSeconds: 90 })],
        [["--timeout=2.25"], run({ timeoutSeconds: 2.25 })],
        [["--kept-file=/var/lib/a=b"], run({ keptFile: "/var/lib/a=b" })],
        [["--timeout", "5", "-h"], { kind: "help" }],
        [["-h", "--bogus"], { kind: "help" }],
      ];
      for (const [argv, want] of cases) assert.deepEqual(parseArgs(argv), want, argv.join(" "));
    });

    it("refuses a URL with credentials or a fragment, a timeout that is not plain seconds, and a path with NUL", () => {
      const cases: Array<[string[], string]> = [
        [["--imds-url", "http://user:secret@x"], 'without query, fragment or credentials (got "http://user:secret@x")'],
        [["--imds-url", "http://user@x"], 'without query, fragment or credentials (got "http://user@x")'],
        [["--arm-url", "https://x/#frag"], 'without query, fragment or credentials (got "https://x/#frag")'],
        [["--arm-url="], '--arm-url must be an absolute http:// or https:// URL (got "")'],
        [["--imds-url"], "--imds-url needs a value"],
        [["--kept-file", "/var/lib/\0kept"], '--kept-file must be an absolute path (got "/var/lib/\0kept")'],
        [["--timeout", "90", "--kept-file"], "--kept-file needs a value"],
        [["--x=1"], "unknown flag --x"],
        [["-x=1"], "unknown flag -x=1"],
        [["--timeout", "5", "extra"], 'unexpected argument "extra" (only flags are taken)'],
      ];
      for (const [argv, message] of cases) {
        const got = parseArgs(argv);
        assert.equal(got.kind, "error", argv.join(" "));
        const text = (got as { message: string }).message;
        assert.ok(text === message || text.endsWith(message), `${argv.join(" ")}: ${text}`);
      }
      // Why --overprovisioned went, with the budget that made it cost 80 minutes.
      assert.match(
        (parseArgs(["--overprovisioned"]) as { message: string }).message,
        /reading the scale set, whose Compute bucket \(36, \+12\/min per scale set\) makes 1,000 instances wait about 80 minutes;/,
      );
      for (const value of ["5s", "x5", "1.5.5", "5 5", ".5", "5.", "1.x", "0.0"]) {
        assert.deepEqual(
          parseArgs(["--timeout", value]),
          error(`--timeout must be a number of seconds greater than 0 (got "${value}")`),
          value,
        );
      }
    });
  });

  describe("IMDS plain-text values", () => {
    it("takes an azEnvironment that is one word of letters and digits, trimmed", () => {
      assert.equal(parseAzEnvironment(" AzurePublicCloud\n"), "AzurePublicCloud");
      assert.equal(parseAzEnvironment("AzureUSGovernmentCloud"), "AzureUSGovernmentCloud");
      for (const bad of ["", "Azure Cloud", "1Cloud", "AzureCloud!", "<html>"])
        assert.equal(parseAzEnvironment(bad), undefined, bad);
    });

    it("takes a vmId that is a whole GUID, in either case, trimmed", () => {
      assert.equal(parseVmUuid(`${DEFAULT_VM_ID}\n`), DEFAULT_VM_ID);
      assert.equal(parseVmUuid(DEFAULT_VM_ID.toUpperCase()), DEFAULT_VM_ID.toUpperCase());
      for (const bad of [
        "",
        `{${DEFAULT_VM_ID}}`,
        `x${DEFAULT_VM_ID}`,
        `${DEFAULT_VM_ID}0`,
        DEFAULT_VM_ID.replace(/-/g, ""),
      ]) {
        assert.equal(parseVmUuid(bad), undefined, bad);
      }
    });

    it("matches the kept file's vmId to IMDS's in either case, whichever side is upper case", async () => {
      for (const [imds, file] of [
        [DEFAULT_VM_ID.toUpperCase(), DEFAULT_VM_ID],
        [DEFAULT_VM_ID, DEFAULT_VM_ID.toUpperCase()],
      ]) {
        const sim = await simulate(
          (f, files) => {
            f.setVmState("Succeeded");
            files.write("/var/lib/hpc-workers/kept", ` ${file}\n`);
          },
          { keptFile: "/var/lib/hpc-workers/kept", fake: { vmId: imds }, timeoutSeconds: 30 },
        );
        assert.deepEqual(sim.outcome, { kind: "succeeded" }, `IMDS ${imds}, file ${file}`);
      }
    });

    it("retries IMDS while azEnvironment or vmId is not one, naming which", async () => {
      const cloud = await simulate(() => undefined, { fake: { azEnvironment: "Azure Cloud" }, timeoutSeconds: 3 });
      assert.equal(cloud.outcome.kind, "timeout");
      assert.ok(
        cloud.logs.some((l) =>
          / IMDS compute\/azEnvironment: 200 with an unusable body \("Azure Cloud"\); retrying in /.test(l),
        ),
      );
      const vmId = await simulate(() => undefined, {
        fake: { vmId: "not-a-guid" },
        keptFile: "/var/lib/hpc-workers/kept",
        timeoutSeconds: 3,
      });
      assert.equal(vmId.outcome.kind, "timeout");
      assert.ok(
        vmId.logs.some((l) => / IMDS compute\/vmId: 200 with an unusable body \("not-a-guid"\); retrying in /.test(l)),
      );
    });

    it("joins an ARM URL given with trailing slashes and the VM's id with one slash", async () => {
      const sim = await simulate((f) => f.setVmState("Succeeded"), { armUrl: "http://fake.invalid//" });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.urls.some((u) => u.indexOf(`http://fake.invalid${DEFAULT_RESOURCE_ID}?`) === 0));
    });

    it("takes a VM id only whole: nothing before /subscriptions, nothing after the VM's name", () => {
      for (const bad of [
        `x${DEFAULT_RESOURCE_ID}`,
        `x${FLEXIBLE_RESOURCE_ID}`,
        `${FLEXIBLE_RESOURCE_ID}/extensions/x`,
        DEFAULT_RESOURCE_ID.replace("/virtualMachines/0", "/virtualMachines/"),
        FLEXIBLE_RESOURCE_ID.replace("/resourceGroups/hpc-rg/", "/resourceGroups//"),
      ]) {
        assert.equal(parseVmId(bad), undefined, bad);
      }
      assert.deepEqual(parseVmId(FLEXIBLE_RESOURCE_ID.toUpperCase()), {
        kind: "flexible",
        id: FLEXIBLE_RESOURCE_ID.toUpperCase(),
      });
    });
  });

  describe("Retry-After", () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);

    it("takes plain (fractional) numbers with spaces around, including 0, and nothing else", () => {
      for (const [value, ms] of [
        [" 3 ", 3],
        ["2.25", 2.25],
        ["0", 0],
        ["12", 12],
      ] as Array<[string, number]>) {
        assert.equal(retryAfterMs({ "retry-after-ms": value }, now), ms, `retry-after-ms ${value}`);
        assert.equal(retryAfterMs({ "x-ms-retry-after-ms": value }, now), ms, `x-ms-retry-after-ms ${value}`);
        assert.equal(retryAfterMs({ "retry-after": value }, now), ms * 1000, `retry-after ${value}`);
      }
      for (const value of ["3x", "x3", "1.5.5", "5 5", "1.x", "", "9".repeat(400)]) {
        assert.equal(retryAfterMs({ "retry-after-ms": value }, now), undefined, `retry-after-ms ${value}`);
      }
      // A Retry-After that is no number is read as a date, and one in the past is no wait.
      assert.equal(retryAfterMs({ "retry-after": "1.5.5" }, now), 0);
      assert.equal(retryAfterMs({ "retry-after": "9".repeat(400) }, now), undefined);
    });

    it("waits for the longest of the three headers, whichever carries it", () => {
      assert.equal(
        retryAfterMs({ "retry-after": "1", "retry-after-ms": "300", "x-ms-retry-after-ms": "200" }, now),
        1000,
      );
      assert.equal(
        retryAfterMs({ "retry-after": "1", "retry-after-ms": "3000", "x-ms-retry-after-ms": "200" }, now),
        3000,
      );
      assert.equal(
        retryAfterMs({ "retry-after": "1", "retry-after-ms": "300", "x-ms-retry-after-ms": "4000" }, now),
        4000,
      );
    });
  });
});
