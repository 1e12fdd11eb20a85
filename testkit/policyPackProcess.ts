/**
 * A policy pack started as the Pulumi CLI starts one, and a gRPC client for its Analyzer service.
 *
 * For `pulumi preview --policy-pack DIR`, and for a published pack once installed, the CLI runs
 * `node <@pulumi/pulumi resolved from DIR>/cmd/run-policy-pack <engine address> DIR` with DIR as the
 * working directory (pkg/resource/plugin/plugin.go, RunPlugin for analyzers). That registers ts-node
 * with type-checking and DIR's tsconfig.json, requires DIR (package.json `main`), and the PolicyPack
 * prints the port it serves on as its first line of stdout.
 */
import { ChildProcess, spawn } from "child_process";

const grpc = require("@grpc/grpc-js");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");

/** run-policy-pack drops the engine address before the pack sees it; nothing listens here. */
const UNUSED_ENGINE_ADDRESS = "127.0.0.1:1";

export interface RunningPolicyPack {
  /** Calls one Analyzer method (`getAnalyzerInfo`, `analyze`, `analyzeStack`, `configure`). */
  call<T>(method: string, request: unknown): Promise<T>;
  stop(): void;
}

/** Starts the pack in `packDir`; rejects with the pack's stderr when it exits before serving. */
export async function startPolicyPack(packDir: string): Promise<RunningPolicyPack> {
  const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
  const child: ChildProcess = spawn(process.execPath, [runPolicyPack, UNUSED_ENGINE_ADDRESS, packDir], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
      if (stdout.includes("\n")) resolve(parseInt(stdout, 10));
    });
    child.once("exit", (code) =>
      reject(new Error(`policy pack in ${packDir} exited ${code} before serving:\n${stderr}`)),
    );
  });
  const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    call: <T>(method: string, request: unknown) =>
      new Promise<T>((resolve, reject) =>
        client[method](request, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))),
      ),
    stop: () => {
      client.close();
      child.kill();
    },
  };
}
