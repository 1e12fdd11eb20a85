/**
 * The pack as `pulumi preview --policy-pack policy` runs it: policy/ started through run-policy-pack
 * in its own process, serving the analyzer over gRPC. This drives the real @pulumi/policy server (its
 * proxy, its config handling, its diagnostics), which the in-process evaluator only imitates.
 */
import * as assert from "assert";
import { READER_ROLE_DEFINITION_GUID } from "../components/defaults";
import { ResourceSnapshot } from "../policy/evaluate";
import { PACK_NAME, policies } from "../policy/policies";
import { CONTRIBUTOR_ROLE_DEFINITION_GUID as CONTRIBUTOR_GUID } from "../policy/roles";
import { RunningPolicyPack, startPolicyPack } from "../testkit/policyPackProcess";
import { READER_ID, UNKNOWN_STRING, happyModel, snapshots } from "../testkit/policyStacks";

describe("policy pack: served over gRPC as the Pulumi CLI runs it", function () {
  this.timeout(60_000);
  const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
  const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
  const POLICY_DIR = require("path").resolve(__dirname, "..", "policy");
  const MANDATORY = analyzerPb.EnforcementLevel.MANDATORY;

  let pack: RunningPolicyPack;
  const call = <T>(method: string, req: unknown): Promise<T> => pack.call<T>(method, req);

  before(async () => {
    pack = await startPolicyPack(POLICY_DIR);
  });

  after(() => pack?.stop());

  const options = () => new analyzerPb.AnalyzerResourceOptions();
  const struct = (props: object) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
  const diagnostics = (resp: any) =>
    resp
      .getDiagnosticsList()
      .map((d: any) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));

  async function analyze(snapshot: ResourceSnapshot) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(snapshot.type);
    req.setName(snapshot.name);
    req.setUrn(snapshot.urn);
    req.setProperties(struct(snapshot.inputs));
    req.setOptions(options());
    return diagnostics(await call("analyze", req));
  }

  async function analyzeStack(stack: ResourceSnapshot[]) {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(
      stack.map((s) => {
        const r = new analyzerPb.AnalyzerResource();
        r.setType(s.type);
        r.setName(s.name);
        r.setUrn(s.urn);
        r.setProperties(struct(s.outputs ?? s.inputs));
        r.setOptions(options());
        if (s.parent) r.setParent(s.parent);
        r.setDependenciesList(s.dependencies ?? []);
        for (const [k, urns] of Object.entries(s.propertyDependencies ?? {})) {
          const deps = new analyzerPb.AnalyzerPropertyDependencies();
          deps.setUrnsList(urns);
          r.getPropertydependenciesMap().set(k, deps);
        }
        return r;
      }),
    );
    return diagnostics(await call("analyzeStack", req));
  }

  it("announces the pack's name and every policy with its config schema", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    assert.strictEqual(info.getName(), PACK_NAME);
    assert.deepStrictEqual(
      info
        .getPoliciesList()
        .map((p: any) => p.getName())
        .sort(),
      policies.map((p) => p.name).sort(),
    );
  });

  it("passes the happy stack, resource by resource and as a stack, with the principal unknown as in a preview", async () => {
    const m = happyModel();
    m.reader!.principalId = UNKNOWN_STRING;
    m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
    const stack = snapshots(m);
    for (const s of stack) assert.deepStrictEqual(await analyze(s), [], s.name);
    assert.deepStrictEqual(await analyzeStack(stack), []);
  });

  it("reports a resource rule with its level and reason", async () => {
    const m = happyModel();
    m.vmss.virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication = false;
    const found = await analyze(snapshots(m).find((s) => s.name === "workers-vmss")!);
    assert.deepStrictEqual(
      found.map((d: any) => [d.policy, d.level]),
      [["linux-ssh-key-only", MANDATORY]],
    );
    assert.match(found[0].message, /disablePasswordAuthentication: true/);
  });

  it("reports a stack rule on an assignment linked only through its property dependency", async () => {
    const m = happyModel();
    m.reader!.principalId = UNKNOWN_STRING;
    m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
    m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID);
    const found = await analyzeStack(snapshots(m));
    assert.deepStrictEqual(
      found.map((d: any) => [d.policy, d.level]),
      [["role-assignment-reader-only", MANDATORY]],
    );
  });

  it("reads policy config sent by the CLI", async () => {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const cfg = new analyzerPb.PolicyConfig();
    cfg.setEnforcementlevel(analyzerPb.EnforcementLevel.ADVISORY);
    cfg.setProperties(struct({ maxBytes: 100 }));
    req.getPolicyconfigMap().set("custom-data-soft-budget", cfg);
    await call("configure", req);
    const found = await analyze(snapshots(happyModel()).find((s) => s.name === "workers-vmss")!);
    assert.deepStrictEqual(
      found.map((d: any) => d.policy),
      ["custom-data-soft-budget"],
    );
    assert.match(found[0].message, /soft budget of 100\b/);
  });
});
