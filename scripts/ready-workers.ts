/**
 * npm run ready-workers -- --resource-group RG --scale-set NAME [--subscription ID] [--json] [--arm-endpoint URL]
 *
 * Lists a scale set's instances and which of them run their worker (vmHealth healthy, as the
 * Application Health extension reports it), with the user's Azure credentials
 * (DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI, ...).
 * Exit codes: 0 listed, 1 Azure refused or failed (the message says why), 2 a usage mistake.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { parseArgs } from "util";
import { computeClient, listWorkers, PUBLIC_ARM_ENDPOINT } from "./readyWorkers/list";
import type { WorkerRow } from "./readyWorkers/list";

export const USAGE = `usage: npm run ready-workers -- --resource-group RG --scale-set NAME [--subscription ID] [--json] [--arm-endpoint URL]

Lists the scale set's instances and which of them run their worker: vmHealth HealthState/healthy,
as the Application Health extension reports it. Credentials: DefaultAzureCredential (az login,
AZURE_* variables, a managed identity, ...).
  --resource-group RG   the scale set's resource group
  --scale-set NAME      the scale set (the component's scaleSetName output)
  --subscription ID     default: AZURE_SUBSCRIPTION_ID (az account show --query id -o tsv)
  --json                one JSON array of {instanceId, name, provisioningState, health, ready}
  --arm-endpoint URL    Azure Resource Manager (default ${PUBLIC_ARM_ENDPOINT})
`;

const EXIT = { ok: 0, azure: 1, usage: 2 } as const;

interface Options {
  resourceGroup: string;
  scaleSet: string;
  subscription: string;
  json: boolean;
  armEndpoint: string;
}

/** The command line, or a usage problem ("" for --help). */
export function options(argv: string[]): Options | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        "resource-group": { type: "string" },
        "scale-set": { type: "string" },
        subscription: { type: "string" },
        json: { type: "boolean", default: false },
        "arm-endpoint": { type: "string", default: PUBLIC_ARM_ENDPOINT },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    return (e as Error).message;
  }
  if (parsed.help) return "";
  const subscription = parsed.subscription ?? process.env.AZURE_SUBSCRIPTION_ID;
  if (!parsed["resource-group"]) return "--resource-group is required";
  if (!parsed["scale-set"]) return "--scale-set is required";
  if (!subscription) return "--subscription is required when AZURE_SUBSCRIPTION_ID is not set";
  return {
    resourceGroup: parsed["resource-group"],
    scaleSet: parsed["scale-set"],
    subscription,
    json: parsed.json ?? false,
    armEndpoint: parsed["arm-endpoint"] ?? PUBLIC_ARM_ENDPOINT,
  };
}

export function formatTable(rows: WorkerRow[]): string {
  const table = [["INSTANCE", "NAME", "PROVISIONING", "HEALTH", "READY"]].concat(
    rows.map((r) => [r.instanceId, r.name, r.provisioningState, r.health ?? "(none)", r.ready ? "yes" : "no"]),
  );
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join("  ")
      .trimEnd(),
  );
  lines.push(`${rows.filter((r) => r.ready).length} of ${rows.length} instances run their worker`);
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const opts = options(argv);
  if (typeof opts === "string") {
    if (opts) process.stderr.write(`ready-workers: ${opts}\n`);
    (opts ? process.stderr : process.stdout).write(USAGE);
    return opts ? EXIT.usage : EXIT.ok;
  }
  let rows: WorkerRow[];
  try {
    const client = computeClient(new DefaultAzureCredential(), opts.subscription, opts.armEndpoint);
    rows = await listWorkers(client, opts.resourceGroup, opts.scaleSet);
  } catch (e) {
    const err = e as Error & { code?: string; statusCode?: number };
    const status = err.statusCode ? ` (HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ""})` : "";
    process.stderr.write(
      `ready-workers: cannot list ${opts.scaleSet} in ${opts.resourceGroup}${status}: ${err.message.split("\n")[0]}\n`,
    );
    return EXIT.azure;
  }
  process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
  return EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
