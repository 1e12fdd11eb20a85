/**
 * Starts a source-based component package's provider the way the Pulumi CLI does, from its
 * PulumiPlugin.yaml. Everything below is read from pulumi/pulumi v3.248.0
 * (a88168d865b7fd428e5a929cc54aeceaf72d203f):
 *
 * - sdk/go/common/resource/plugin/plugin.go ExecPlugin: a plugin directory without an executable
 *   but with a PulumiPlugin.yaml runs through its language host's RunPlugin, with the program
 *   directory = the plugin directory, `Pwd` = the consumer's working directory, and the args of a
 *   resource provider = [engine address] (provider_plugin.go).
 * - sdk/nodejs/cmd/pulumi-language-nodejs/main.go RunPlugin: `runPath` is
 *   "@pulumi/pulumi/cmd/run-plugin" resolved by `node -e require.resolve(...)` from the plugin
 *   directory (locateModule), so the plugin's own SDK runs it; the command is
 *   `node <runPath> <nodeargs...> <plugin dir> <engine address>`; the env is the CLI's plus
 *   PULUMI_NODEJS_TYPESCRIPT=true unless `typescript: false` (and PULUMI_NODEJS_TSCONFIG_PATH for
 *   `tsconfig:`); the working directory is `Pwd`, not the plugin directory.
 * - plugin.go newPlugin/parsePort: the first stdout line is the port; anything else first breaks
 *   the handshake. Later output is logged, so it is drained here.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** The `nodejs` runtime options the language host reads (parseOptions in its main.go). */
interface NodejsRuntimeOptions {
  typescript: boolean;
  tsconfig?: string;
  nodeargs: string[];
}

export interface LaunchOptions {
  /** The component package: the directory holding PulumiPlugin.yaml and package.json. */
  pluginDir: string;
  /** What the CLI passes as the provider's only argument: its engine's gRPC address. */
  engineAddress: string;
  /** The consumer project's directory, the plugin's working directory. */
  pwd: string;
}

export interface PluginProcess {
  /** 127.0.0.1:<port>, as the plugin printed it. */
  address: string;
  /** Everything the plugin wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Reads PulumiPlugin.yaml as LoadPluginProject would, for the one runtime this launcher knows. */
export function readNodejsPluginRuntime(pluginDir: string): NodejsRuntimeOptions {
  const file = path.join(pluginDir, "PulumiPlugin.yaml");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the CLI would not treat ${pluginDir} as a plugin`);
  const project = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  const runtime = project.runtime;
  const name = typeof runtime === "string" ? runtime : runtime?.name;
  if (name !== "nodejs") throw new Error(`${file}: runtime is ${JSON.stringify(name)}, this launcher runs "nodejs"`);
  const options = (typeof runtime === "object" && runtime.options) || {};
  if (options.typescript !== undefined && typeof options.typescript !== "boolean") {
    throw new Error(`${file}: runtime.options.typescript must be a boolean`);
  }
  if (options.nodeargs !== undefined && !/^[^'"\\]*$/.test(options.nodeargs)) {
    throw new Error(`${file}: runtime.options.nodeargs with quotes is not supported by this launcher`);
  }
  return {
    typescript: options.typescript ?? true,
    tsconfig: options.tsconfig,
    nodeargs: options.nodeargs ? String(options.nodeargs).trim().split(/\s+/) : [],
  };
}

/** locateModule: the run-plugin entry of the plugin's own @pulumi/pulumi. */
function locateRunPlugin(pluginDir: string): string {
  return execFileSync(process.execPath, ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-plugin'))"], {
    cwd: pluginDir,
    encoding: "utf8",
  }).trim();
}

/** Starts the provider and resolves once it printed its port; rejects with its stderr if it exits first. */
export function launchComponentPlugin(options: LaunchOptions): Promise<PluginProcess> {
  const pluginDir = path.resolve(options.pluginDir);
  const runtime = readNodejsPluginRuntime(pluginDir);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (runtime.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (runtime.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = runtime.tsconfig;
  const child = spawn(
    process.execPath,
    [locateRunPlugin(pluginDir), ...runtime.nodeargs, pluginDir, options.engineAddress],
    { cwd: options.pwd, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise<PluginProcess>((resolve, reject) => {
    let firstLine = "";
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`the plugin exited (${code ?? signal}) before printing its port; stderr:\n${stderr}`));
    child.once("exit", onExit);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (firstLine.endsWith("\n")) return; // the port is read; the rest is the plugin's log
      firstLine += chunk;
      const newline = firstLine.indexOf("\n");
      if (newline < 0) return;
      firstLine = firstLine.slice(0, newline + 1);
      child.off("exit", onExit);
      const port = Number(firstLine.trim());
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        void stop(child, exited);
        reject(
          new Error(`the plugin's first stdout line is not a port: ${JSON.stringify(firstLine)}; stderr:\n${stderr}`),
        );
        return;
      }
      resolve({ address: `127.0.0.1:${port}`, stderr: () => stderr, stop: () => stop(child, exited) });
    });
  });
}

function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill();
  return exited;
}
