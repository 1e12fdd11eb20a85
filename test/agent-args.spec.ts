/** The core's small pure pieces: flags and usage, resource ids, Retry-After parsing, exit codes. */
import { strict as assert } from "assert";
import { parseArgs, USAGE } from "../agent/src/core/args";
import { DEFAULT_IMDS_URL, DEFAULT_TIMEOUT_SECONDS } from "../agent/src/core/constants";
import { EXIT_CODES } from "../agent/src/core/exitCodes";
import { parseVmId } from "../agent/src/core/resourceId";
import { retryAfterMs } from "../agent/src/core/retryAfter";
import { DEFAULT_RESOURCE_ID, FLEXIBLE_RESOURCE_ID } from "../testkit/fake-azure/index";

describe("agent core: pure pieces (flags, ids, Retry-After, exit codes)", () => {
  it("parses flags with defaults, both --flag value and --flag=value", () => {
    assert.deepEqual(parseArgs([]), {
      kind: "run",
      options: { imdsUrl: DEFAULT_IMDS_URL, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS },
    });
    assert.deepEqual(
      parseArgs([
        "--imds-url",
        "http://127.0.0.1:8080/",
        "--arm-url=https://arm.example/base/",
        "--timeout",
        "90",
        "--kept-file",
        "/var/lib/hpc-workers/kept",
      ]),
      {
        kind: "run",
        options: {
          imdsUrl: "http://127.0.0.1:8080",
          armUrl: "https://arm.example/base",
          timeoutSeconds: 90,
          keptFile: "/var/lib/hpc-workers/kept",
        },
      },
    );
    assert.equal((parseArgs(["--timeout=2.5"]) as any).options.timeoutSeconds, 2.5);
    assert.equal((parseArgs(["--kept-file=/k"]) as any).options.keptFile, "/k");
    assert.deepEqual(parseArgs(["--help"]), { kind: "help" });
  });

  it("refuses --overprovisioned, saying it was replaced by --kept-file and why", () => {
    for (const argv of [["--overprovisioned"], ["--timeout", "9", "--overprovisioned"], ["--overprovisioned=yes"]]) {
      const p = parseArgs(argv);
      assert.equal(p.kind, "error");
      const message = (p as { message: string }).message;
      assert.match(message, /^--overprovisioned was removed and replaced by --kept-file PATH/);
      assert.match(message, /reading the scale set/);
      assert.match(message, /runs only on kept VMs/);
    }
    assert.match(USAGE, /--kept-file PATH/);
    assert.doesNotMatch(USAGE, /--overprovisioned/);
  });

  it("rejects unknown flags and bad values with a message naming the flag", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--verbose"], /unknown flag --verbose/],
      [["--timeout"], /--timeout needs a value/],
      [["--timeout", "0"], /--timeout must be a number of seconds greater than 0 \(got "0"\)/],
      [["--timeout", "-5"], /--timeout must be/],
      [["--timeout", "ten"], /--timeout must be/],
      [["--timeout", "1e3"], /--timeout must be/],
      [["--imds-url", "169.254.169.254"], /--imds-url must be an absolute http/],
      [["--arm-url", "ftp://x"], /--arm-url must use http/],
      [["--arm-url", "https://x/?a=1"], /without query/],
      [["--kept-file"], /--kept-file needs a value/],
      [["--kept-file", "var/lib/kept"], /--kept-file must be an absolute path \(got "var\/lib\/kept"\)/],
      [["extra"], /unexpected argument "extra"/],
    ];
    for (const [argv, re] of cases) {
      const p = parseArgs(argv);
      assert.equal(p.kind, "error", argv.join(" "));
      assert.match((p as { message: string }).message, re);
    }
  });

  it("tells a Uniform instance id (with its scale set) from a Flexible one, case-insensitively", () => {
    assert.deepEqual(parseVmId(DEFAULT_RESOURCE_ID), {
      kind: "uniform",
      id: DEFAULT_RESOURCE_ID,
      scaleSetId: DEFAULT_RESOURCE_ID.replace(/\/virtualMachines\/0$/, ""),
    });
    assert.deepEqual(parseVmId(`${FLEXIBLE_RESOURCE_ID}\n`), { kind: "flexible", id: FLEXIBLE_RESOURCE_ID });
    assert.equal(parseVmId(DEFAULT_RESOURCE_ID.toLowerCase())!.kind, "uniform");
    for (const bad of [
      "",
      "<html>",
      "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v",
      `${DEFAULT_RESOURCE_ID}/extra`,
    ]) {
      assert.equal(parseVmId(bad), undefined, bad);
    }
  });

  it("reads Retry-After as seconds or an HTTP date, and the ms headers; the longest wins", () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    assert.equal(retryAfterMs({ "retry-after": "12" }, now), 12000);
    assert.equal(retryAfterMs({ "retry-after-ms": "1500" }, now), 1500);
    assert.equal(retryAfterMs({ "x-ms-retry-after-ms": "250" }, now), 250);
    assert.equal(retryAfterMs({ "retry-after": "2", "retry-after-ms": "5000" }, now), 5000);
    assert.equal(
      retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT", date: "Wed, 01 Jan 2025 12:00:10 GMT" }, 0),
      20000,
    );
    assert.equal(retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT" }, now), 30000);
    assert.equal(retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 11:00:00 GMT" }, now), 0);
    assert.equal(retryAfterMs({ "retry-after": "soon" }, now), undefined);
    assert.equal(retryAfterMs({}, now), undefined);
  });

  it("has distinct exit codes, 0 only for succeeded and none equal to 1 (Node's crash code)", () => {
    const codes: number[] = Object.values(EXIT_CODES);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(EXIT_CODES.succeeded, 0);
    assert.ok(codes.indexOf(1) < 0);
    assert.deepEqual(EXIT_CODES, { succeeded: 0, usage: 2, gone: 3, failed: 4, timeout: 5, refused: 6 });
  });
});
