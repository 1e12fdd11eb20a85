/**
 * Runs a Pulumi program as the root of a stack under the one mock runtime (testkit/pulumiMocks.ts)
 * and returns every resource it registers as the policy engine would see it: inputs, outputs, parent
 * and dependencies. The offline preview evaluates the policy pack on the result; the program's tests
 * assert on it.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import type { ResourceSnapshot } from "../policy/evaluate";
import { ResourceRecorder, installMocks } from "./pulumiMocks";
import type { ProjectConfig } from "./stackConfig";

/** A program that has not finished registering after this long is stuck on an Output that never resolves. */
const PROGRAM_TIMEOUT_MS = 120_000;

/** The program itself failed, as `pulumi preview` would report it. */
export class ProgramError extends Error {}

/** Drains registrations still in flight (e.g. resources created inside apply). Internal to the SDK, untyped. */
function waitForRPCs(): Promise<void> {
  return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** Mock inputs with secrets unwrapped (as the policy engine sees them) and resource objects dropped. */
function plainInputs(value: unknown): any {
  if (Array.isArray(value)) return value.map(plainInputs);
  if (value && typeof value === "object") {
    if ((value as any)[specialSigKey] === specialSecretSig) return plainInputs((value as any).value);
    if (pulumi.Resource.isInstance(value)) return "[resource reference]";
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plainInputs(v);
    return out;
  }
  return value;
}

/** A recorded resource: under mocks every one has outputs (the mock state; {} for components). */
export type RecordedSnapshot = ResourceSnapshot & { outputs: Record<string, any> };

export interface ProgramRun {
  project: string;
  stack: string;
  resources: RecordedSnapshot[];
  outputs: Record<string, unknown>;
}

function describeError(e: unknown): string {
  if (pulumi.InputPropertiesError.isInstance(e as any)) {
    const err = e as pulumi.InputPropertiesError;
    // Each reason already names its property ("capacity must be ..."), as the component words them.
    const listed = err.message.includes(err.errors?.[0]?.reason ?? "\u0000");
    return listed ? err.message : [err.message, ...(err.errors ?? []).map((d) => `  - ${d.reason}`)].join("\n");
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProgramError(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `programFile` as the root of a stack under mocks and returns every registered resource. */
export async function runProgram(programFile: string, cfg: ProjectConfig, stack: string): Promise<ProgramRun> {
  const recorder = new ResourceRecorder();
  await installMocks(recorder, { project: cfg.project, stack, preview: false });
  const previousConfig = pulumi.runtime.allConfig();
  pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);

  const asyncFailures: unknown[] = [];
  const onRejection = (reason: unknown) => asyncFailures.push(reason);
  process.on("unhandledRejection", onRejection);
  // A program registers its resources when it is first loaded: a cached copy (another test, an
  // earlier run) would register nothing, so drop it, and after the run drop every project module
  // this run loaded (a program split over files) so the next run loads them afresh too.
  const cachedBefore = new Set(Object.keys(require.cache));
  const forget = () => {
    delete require.cache[require.resolve(programFile)];
    for (const key of Object.keys(require.cache)) {
      if (!cachedBefore.has(key) && !key.split(path.sep).includes("node_modules")) delete require.cache[key];
    }
  };
  delete require.cache[require.resolve(programFile)];
  let outputs: Record<string, unknown> = {};
  try {
    outputs =
      ((await pulumi.runtime.runInPulumiStack(async () => {
        const mod = require(programFile);
        // Like the nodejs language host: a default-exported function is the program.
        const main = typeof mod === "function" ? mod : typeof mod?.default === "function" ? mod.default : undefined;
        return main ? await main() : mod;
      })) as Record<string, unknown>) ?? {};
    await withTimeout(
      waitForRPCs(),
      PROGRAM_TIMEOUT_MS,
      `the program was still registering resources after ${PROGRAM_TIMEOUT_MS / 1000} s: an Output never resolves`,
    );
    // Let rejected Outputs surface before deciding the run was clean.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (e) {
    throw new ProgramError(describeError(e));
  } finally {
    process.off("unhandledRejection", onRejection);
    forget();
    pulumi.runtime.setAllConfig(previousConfig);
  }
  if (asyncFailures.length > 0) throw new ProgramError(asyncFailures.map(describeError).join("\n"));

  const resources: RecordedSnapshot[] = recorder.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn ?? `urn:pulumi:${stack}::${cfg.project}::${r.type}::${r.name}`,
    inputs: plainInputs(r.inputs),
    outputs: r.custom ? { ...plainInputs(r.state), id: r.id } : {},
    parent: r.parent,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
  }));
  return { project: cfg.project, stack, resources, outputs: plainInputs(outputs) ?? {} };
}
