/**
 * The offline preview: the shipped program with the dev stack passes cleanly; every bad program in
 * test/fixtures/programs is rejected with its policy named; the CLI's exit codes and messages, run
 * end to end as a child process.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MAX_CUSTOM_DATA_BYTES, READER_ROLE_DEFINITION_GUID } from "../components/defaults";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, PreviewResult, previewOffline } from "../scripts/preview-offline";
import { parseArgs } from "../scripts/preview/args";
import { StackConfigError, loadConfig, matchesType } from "../testkit/stackConfig";

const ROOT = path.resolve(__dirname, "..");
const PROGRAMS = path.join(ROOT, "test", "fixtures", "programs");
const SCRIPT = path.join(ROOT, "scripts", "preview-offline.ts");

interface Captured extends PreviewResult {
  stdout: string;
  stderr: string;
}

async function preview(...argv: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const result = await previewOffline(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
    ROOT,
  );
  return { ...result, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** The CLI as CI runs it: a separate node process, exit code and streams. */
function cli(...argv: string[]) {
  const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", SCRIPT, ...argv], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const STACK_TRACE_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

describe("preview:offline: Spot and terminate notifications", () => {
  it("shows a Spot fleet's eviction policy, price cap and notices", async () => {
    const run = await preview("--stack", "dev", "--config", "priority=Spot", "--config", "maxPrice=0.0123");
    assert.strictEqual(run.exitCode, EXIT_OK, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /eviction: +Spot, evictionPolicy Delete, paying at most \$0\.0123\/hour; evictions announced about 30 s ahead \(Preempt\), deletes come without notice/,
    );
  });

  it("shows a terminate notification", async () => {
    const run = await preview("--stack", "dev", "--config", "terminateNotification=PT10M");
    assert.strictEqual(run.exitCode, EXIT_OK, run.stdout + run.stderr);
    assert.match(run.stdout, /eviction: +Regular; deletes announced PT10M ahead \(terminate notification\)/);
  });

  it("fails, naming the field and quoting Azure, for a terminate notification on Spot", async () => {
    const run = await preview("--stack", "dev", "--config", "priority=Spot", "--config", "terminateNotification=PT5M");
    assert.strictEqual(run.exitCode, EXIT_FAILED);
    assert.match(run.stderr + run.stdout, /terminateNotification cannot be set with priority "Spot"/);
    assert.doesNotMatch(run.stderr + run.stdout, STACK_TRACE_LINE);
  });
});

describe("preview:offline: the shipped program with the dev stack", () => {
  let run: Captured;
  before(async () => {
    run = await preview("--stack", "dev");
  });

  it("passes every policy with no violation at all, not even an advisory", () => {
    assert.strictEqual(run.exitCode, EXIT_OK, run.stdout + run.stderr);
    assert.deepStrictEqual(run.violations, []);
    assert.match(run.stdout, /no violations/);
  });

  it("prints the resource tree with the component's children indented under it", () => {
    const types = run.run!.resources.map((r) => r.type).sort();
    assert.deepStrictEqual(types, [
      "azure-native:authorization:RoleAssignment",
      "azure-native:compute:VirtualMachineScaleSet",
      "azure-native:network:NatGateway",
      "azure-native:network:PublicIPAddress",
      "azure-native:network:Subnet",
      "azure-native:network:VirtualNetwork",
      "azure-native:resources:ResourceGroup",
      "hpc-workers:index:WorkerScaleSet",
      "pulumi:pulumi:Stack",
    ]);
    assert.match(run.stdout, /^ \+ {3}pulumi:pulumi:Stack +hpc-workers-dev +create$/m);
    assert.match(run.stdout, /^ \+ {3}[├└]─ hpc-workers:index:WorkerScaleSet +hpc-dev-workers +create$/m);
    assert.match(
      run.stdout,
      /^ \+ {3}[│ ] {2}[├└]─ azure-native:compute:VirtualMachineScaleSet +hpc-dev-workers-vmss +create$/m,
    );
    assert.match(
      run.stdout,
      /^ \+ {3}[│ ] {2}[├└]─ azure-native:authorization:RoleAssignment +hpc-dev-workers-reader +create$/m,
    );
    assert.match(run.stdout, /Resources: \+ 9 to create/);
  });

  it("summarises the role, its resource-group scope and principalType, the delivery mode, the kept proof, the custom-data size and the health extension", () => {
    assert.match(
      run.stdout,
      new RegExp(
        `role: +Reader +/subscriptions/[^/]+/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_DEFINITION_GUID}`,
      ),
    );
    assert.match(run.stdout, /scope: +\/subscriptions\/[^/]+\/resourceGroups\/hpc-dev-rg$/m);
    assert.match(run.stdout, /principalType: ServicePrincipal/);
    assert.match(run.stdout, /principal: +identity of hpc-dev-workers-vmss/);
    assert.match(run.stdout, /delivery: +systemd \(unit\) \[config delivery: systemd\]/);
    assert.match(run.stdout, /eviction: +Regular; deletes come without notice \(no terminate notification\)/);
    assert.match(
      run.stdout,
      /^ {4}drain: +hpc-worker-drain\.service on Scheduled Events: SIGTERM, SIGKILL after 25 s at most; health Initializing while draining$/m,
    );
    assert.match(
      run.stdout,
      /kept proof: +extension "hpc-worker-kept" \(Microsoft\.Azure\.Extensions\/CustomScript 2\.1\) writes \/var\/lib\/hpc-workers\/kept on kept VMs only; the waiter runs with --kept-file$/m,
    );
    assert.match(run.stdout, /^ {4}endpoint: +http:\/\/127\.0\.0\.1:28734\/health$/m);
    assert.match(
      run.stdout,
      /^ {4}health: +hpc-worker-health \(ApplicationHealthLinux 2\.0\) probes http:\/\/localhost:28734\/health every 5 s, 6 probes, grace 8,130 s, after hpc-worker-kept$/m,
    );
    assert.match(run.stdout, /^ {4}repairs: +off$/m);
    const size =
      /custom data: +([\d,]+) bytes decoded.* of the 65,535-byte limit \([\d.]+%\), ([\d,]+) chars base64/.exec(
        run.stdout,
      );
    assert.ok(size, run.stdout);
    const decoded = Number(size[1].replace(/,/g, ""));
    assert.ok(decoded > 0 && decoded <= MAX_CUSTOM_DATA_BYTES);
    assert.strictEqual(Number(size[2].replace(/,/g, "")), 4 * Math.ceil(decoded / 3));
  });
});

describe("preview:offline: programs that must pass", () => {
  for (const program of ["good-azure-native.ts", "good-component.ts"]) {
    it(`passes ${program}`, async () => {
      const r = await preview("--program", path.join(PROGRAMS, program));
      assert.strictEqual(r.exitCode, EXIT_OK, r.stdout + r.stderr);
      assert.deepStrictEqual(r.violations, []);
    });
  }
});

describe("preview:offline: each bad program is rejected with the right policy named", () => {
  const cases: [string, string, string][] = [
    ["broader-role.ts", "role-assignment-reader-only", "workers-contributor"],
    ["subscription-scope.ts", "role-assignment-scope-resource-group-or-narrower", "workers-reader"],
    ["missing-identity.ts", "waiter-scale-set-identity-and-orchestration", "workers-vmss"],
    ["flexible-orchestration.ts", "waiter-scale-set-identity-and-orchestration", "workers-vmss"],
    ["password-login.ts", "linux-ssh-key-only", "workers-vmss"],
    ["overprovision-without-waiter.ts", "overprovisioning-gated-by-waiter", "workers-vmss"],
    ["cse-without-waiter.ts", "overprovisioning-gated-by-waiter", "workers-vmss"],
    ["waiter-and-direct-start.ts", "overprovisioning-gated-by-waiter", "workers-vmss"],
    ["user-principal-type.ts", "role-assignment-service-principal-type", "workers-reader"],
    ["secret-in-custom-data.ts", "custom-data-no-secrets", "workers-vmss"],
    ["custom-data-too-large.ts", "custom-data-platform-limit", "workers-vmss"],
    ["no-reader-assignment.ts", "waiter-scale-set-has-reader", "workers-vmss"],
  ];
  for (const [program, policy, resource] of cases) {
    it(`rejects ${program} with ${policy} on ${resource}, and nothing else`, async () => {
      const r = await preview("--program", path.join(PROGRAMS, program));
      assert.strictEqual(r.exitCode, EXIT_FAILED, r.stdout + r.stderr);
      assert.deepStrictEqual([...new Set(r.violations.map((v) => v.policyName))], [policy], r.stdout);
      assert.match(r.stdout, new RegExp(`^  mandatory  ${policy}  ${resource}: `, "m"));
    });
  }

  it("has a case for every bad program in the fixtures folder", () => {
    const covered = new Set([
      ...cases.map(([p]) => p),
      "good-azure-native.ts",
      "good-component.ts",
      "program-error.ts",
    ]);
    const present = fs.readdirSync(PROGRAMS).filter((f) => f.endsWith(".ts"));
    assert.deepStrictEqual(
      present.filter((f) => !covered.has(f)),
      [],
    );
  });
});

describe("preview:offline: the CLI end to end", () => {
  it("exits 0 for a passing program and says nothing blocks pulumi up", () => {
    const r = cli("--program", "test/fixtures/programs/good-azure-native.ts");
    assert.strictEqual(r.status, EXIT_OK, r.stdout + r.stderr);
    assert.match(r.stdout, /azure-native:compute:VirtualMachineScaleSet +workers-vmss/);
    assert.match(r.stdout, /no violations/);
  });

  it("exits 1 for a failing program, naming the policy, the resource and the reason", () => {
    const r = cli("--program", "test/fixtures/programs/broader-role.ts");
    assert.strictEqual(r.status, EXIT_FAILED, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}mandatory {2}role-assignment-reader-only {2}workers-contributor: grants Contributor/m);
  });

  it("exits 1 with the component's validation message and no stack trace when the program fails", () => {
    const r = cli("--program", "test/fixtures/programs/program-error.ts");
    assert.strictEqual(r.status, EXIT_FAILED, r.stdout + r.stderr);
    assert.match(r.stderr, /^ {2}- capacity must be an integer from 0 to 1000 \(got 2\.5\)$/m);
    assert.match(r.stderr, /sshPublicKey/);
    assert.doesNotMatch(r.stderr + r.stdout, STACK_TRACE_LINE);
  });

  it("exits 2 for an unknown flag, with the usage", () => {
    const r = cli("--stak", "dev");
    assert.strictEqual(r.status, EXIT_USAGE);
    assert.match(r.stderr, /unknown argument "--stak"/);
    assert.match(r.stderr, /usage: npm run preview:offline/);
    assert.doesNotMatch(r.stderr, STACK_TRACE_LINE);
  });

  it("exits 2 for a missing stack file, saying how to fix it", () => {
    const r = cli("--stack", "nope");
    assert.strictEqual(r.status, EXIT_USAGE);
    assert.match(r.stderr, /Pulumi\.nope\.yaml not found.*--stack NAME \(have: .*dev/);
  });

  it("exits 2 for a missing program file", () => {
    const r = cli("--program", "no/such/program.ts");
    assert.strictEqual(r.status, EXIT_USAGE);
    assert.match(r.stderr, /--program no\/such\/program\.ts not found/);
  });
});

describe("preview:offline: config as the CLI applies it", () => {
  let dir: string;
  const project = `name: proj
runtime: nodejs
config:
  capacity:
    type: integer
  overprovision:
    type: boolean
    default: true
  tags:
    type: array
    items:
      type: string
    default: [a, b]
  region: westeurope
`;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-offline-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("applies defaults, passes scalars as strings and arrays as JSON", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  proj:capacity: 3\n");
    const cfg = loadConfig(dir, "s");
    assert.deepStrictEqual(cfg.values, {
      "proj:capacity": "3",
      "proj:overprovision": "true",
      "proj:tags": '["a","b"]',
      "proj:region": "westeurope",
    });
  });

  it("rejects a value of the wrong type, naming the key, the type and the file", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  proj:capacity: lots\n  proj:overprovision: maybe\n");
    assert.throws(
      () => loadConfig(dir, "s"),
      (e: Error) => {
        assert.ok(e instanceof StackConfigError);
        assert.match(e.message, /proj:capacity must be of type integer \(got "lots"\): fix it in Pulumi\.s\.yaml/);
        assert.match(e.message, /proj:overprovision must be of type boolean/);
        return true;
      },
    );
  });

  it("reports a required key with no value and no default", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config: {}\n");
    assert.throws(() => loadConfig(dir, "s"), /missing configuration 'proj:capacity'.*--config KEY=VALUE/);
  });

  it("lets --config set or override a value", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  proj:capacity: 3\n");
    assert.strictEqual(loadConfig(dir, "s", { capacity: "7" }).values["proj:capacity"], "7");
    assert.deepStrictEqual(parseArgs(["-c", "capacity=7", "--stack=s"]).config, { capacity: "7" });
  });

  it("accepts integer and boolean strings as the CLI does", () => {
    assert.ok(matchesType({ type: "integer" }, "42"));
    assert.ok(!matchesType({ type: "integer" }, "4.2"));
    assert.ok(matchesType({ type: "boolean" }, "false"));
    assert.ok(!matchesType({ type: "array", items: { type: "string" } }, ["a", 1]));
  });
});
