/**
 * `npm run ready-workers`: the manager's list of instances whose worker runs, through
 * @azure/arm-compute and DefaultAzureCredential against the one fake ARM. The processes get
 * their token the way a pod-identity host would hand it out (AZURE_POD_IDENTITY_AUTHORITY_HOST
 * pointing at the fake's IMDS), so the real credential chain and the SDK's paging and retry run.
 */
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { computeClient, READY_HEALTH_CODE, workerRow } from "../scripts/readyWorkers/list";
import { formatTable, options } from "../scripts/ready-workers";
import {
  DEFAULT_RESOURCE_GROUP,
  DEFAULT_SCALE_SET_NAME,
  DEFAULT_SUBSCRIPTION_ID,
  FakeAzure,
  faults,
} from "../testkit/fake-azure/index";
import type { FakeInstance } from "../testkit/fake-azure/index";

const REPO = path.resolve(__dirname, "..");
const FLEET: FakeInstance[] = [
  { instanceId: "0", health: "healthy" },
  { instanceId: "1", health: "unknown" },
  { instanceId: "2" },
  { instanceId: "3", provisioningState: "Creating" },
  { instanceId: "5", health: "healthy" },
  { instanceId: "6", health: "initializing" },
  { instanceId: "7", health: "unhealthy" },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  fake: FakeAzure;
}

const fakes: FakeAzure[] = [];

async function readyWorkers(extra: string[], prepare: (fake: FakeAzure) => unknown = () => undefined): Promise<Run> {
  const fake = new FakeAzure({ instances: FLEET });
  fakes.push(fake);
  prepare(fake);
  const url = await fake.listen();
  const args = [
    "ts-node",
    "--transpile-only",
    "scripts/ready-workers.ts",
    "--resource-group",
    DEFAULT_RESOURCE_GROUP,
    "--scale-set",
    DEFAULT_SCALE_SET_NAME,
    "--subscription",
    DEFAULT_SUBSCRIPTION_ID,
    "--arm-endpoint",
    url,
    ...extra,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, AZURE_POD_IDENTITY_AUTHORITY_HOST: url };
  for (const key of ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"]) {
    delete env[key];
  }
  try {
    const { stdout, stderr } = await promisify(execFile)("npx", args, { cwd: REPO, env, timeout: 90000 });
    return { code: 0, stdout, stderr, fake };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, fake };
  }
}

describe("ready-workers (manager side, @azure/arm-compute against the fake ARM)", function () {
  this.timeout(120000);
  const runs: Record<string, Promise<Run>> = {};

  before(() => {
    runs.table = readyWorkers([]);
    // A throttled first page: the SDK's retry policy honours Retry-After (0 s here, so nothing is timed).
    runs.json = readyWorkers(["--json"], (fake) => fake.fail("vmList", faults.throttled(0)));
    runs.forbidden = readyWorkers([], (fake) => fake.setRbacReady(false));
  });

  after(async () => {
    await Promise.all(Object.values(runs).map((r) => r.catch(() => undefined)));
    await Promise.all(fakes.map((f) => f.close()));
  });

  it("prints every instance, its vmHealth and whether its worker runs, following nextLink through every page", async () => {
    const { code, stdout, stderr, fake } = await runs.table;
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      [
        "INSTANCE  NAME            PROVISIONING  HEALTH                    READY",
        "0         workers-vmss_0  Succeeded     HealthState/healthy       yes",
        "1         workers-vmss_1  Succeeded     HealthState/unknown       no",
        "2         workers-vmss_2  Succeeded     (none)                    no",
        "3         workers-vmss_3  Creating      (none)                    no",
        "5         workers-vmss_5  Succeeded     HealthState/healthy       yes",
        "6         workers-vmss_6  Succeeded     HealthState/initializing  no",
        "7         workers-vmss_7  Succeeded     HealthState/unhealthy     no",
        "2 of 7 instances run their worker",
        "",
      ].join("\n"),
    );
    const pages = fake.callsTo("vmList");
    // 7 instances at the fake's 2 a page: 4 pages, each asking for the instance view.
    assert.deepEqual(
      pages.map((c) => [c.status, c.query["$expand"], c.query["$skiptoken"]]),
      [
        [200, "instanceView", undefined],
        [200, "instanceView", "2"],
        [200, "instanceView", "4"],
        [200, "instanceView", "6"],
      ],
    );
    assert.equal(fake.callsTo("token").length, 1);
    for (const c of pages) assert.equal(c.headers["authorization"], `Bearer ${fake.tokens[0]}`);
    assert.equal(fake.callsTo("vm").length + fake.callsTo("scaleSet").length, 0);
  });

  it("prints JSON rows with --json, after retrying a 429 as its Retry-After says", async () => {
    const { code, stdout, stderr, fake } = await runs.json;
    assert.equal(code, 0, stderr);
    const rows = JSON.parse(stdout);
    assert.equal(rows.length, 7);
    assert.deepEqual(rows[0], {
      instanceId: "0",
      name: "workers-vmss_0",
      provisioningState: "Succeeded",
      health: "HealthState/healthy",
      ready: true,
    });
    assert.deepEqual(
      rows.filter((r: { ready: boolean }) => r.ready).map((r: { instanceId: string }) => r.instanceId),
      ["0", "5"],
    );
    assert.equal(rows[2].health, undefined);
    assert.deepEqual(
      fake.callsTo("vmList").map((c) => c.status),
      [429, 200, 200, 200, 200],
    );
  });

  it("exits 1 naming the scale set, the status and ARM's error when Azure refuses", async () => {
    const { code, stdout, stderr } = await runs.forbidden;
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /^ready-workers: cannot list workers-vmss in hpc-rg \(HTTP 403 AuthorizationFailed\): /);
  });

  it("takes the subscription from AZURE_SUBSCRIPTION_ID and refuses a missing argument, naming it", () => {
    const base = ["--resource-group", "rg", "--scale-set", "ss"];
    const saved = process.env.AZURE_SUBSCRIPTION_ID;
    try {
      delete process.env.AZURE_SUBSCRIPTION_ID;
      assert.equal(options(base), "--subscription is required when AZURE_SUBSCRIPTION_ID is not set");
      process.env.AZURE_SUBSCRIPTION_ID = "sub-from-env";
      assert.equal((options(base) as { subscription: string }).subscription, "sub-from-env");
      assert.equal((options([...base, "--subscription", "s2"]) as { subscription: string }).subscription, "s2");
    } finally {
      if (saved === undefined) delete process.env.AZURE_SUBSCRIPTION_ID;
      else process.env.AZURE_SUBSCRIPTION_ID = saved;
    }
    assert.equal(options(["--scale-set", "ss", "--subscription", "s"]), "--resource-group is required");
    assert.equal(options(["--resource-group", "rg", "--subscription", "s"]), "--scale-set is required");
    assert.match(options(["--bogus"]) as string, /Unknown option '--bogus'/);
    assert.equal(options(["--help"]), "");
  });

  it("never sends a token over plain http to anything but this machine", () => {
    const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60000 }) };
    assert.throws(
      () => computeClient(credential, "s", "http://arm.example.com"),
      /--arm-endpoint must be https:\/\/ \(got "http:\/\/arm\.example\.com"\)/,
    );
    assert.doesNotThrow(() => computeClient(credential, "s", "http://127.0.0.1:9"));
    assert.doesNotThrow(() => computeClient(credential, "s", "https://management.usgovcloudapi.net"));
  });

  it("counts an instance ready only on vmHealth HealthState/healthy (any case), never without vmHealth", () => {
    const vm = (code?: string) =>
      workerRow({
        location: "westeurope",
        instanceId: "1",
        name: "n",
        instanceView: code ? { vmHealth: { status: { code } } } : {},
      });
    assert.equal(vm(READY_HEALTH_CODE).ready, true);
    assert.equal(vm("HealthState/Healthy").ready, true);
    for (const code of ["HealthState/initializing", "HealthState/unknown", "HealthState/unhealthy", undefined]) {
      assert.equal(vm(code).ready, false, String(code));
    }
    assert.equal(workerRow({ location: "westeurope" }).ready, false);
    assert.match(formatTable([vm(undefined)]), /\(none\)\s+no\n0 of 1 instances run their worker\n$/);
  });
});
