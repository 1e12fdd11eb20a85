/**
 * Starts FakeAzure for shells and other processes:
 *   npx ts-node --transpile-only testkit/fake-azure/cli.ts --port 8080 [--host 0.0.0.0]
 *     [--resource-id ID] [--vm-id UUID] [--az-environment NAME] [--vm-state S] [--scale-set-state S]
 *     [--token-lifetime SECONDS] [--enforce-budgets] [--quiet]
 * Prints "fake-azure listening on URL" once ready. Control it with
 *   curl -X POST --data Succeeded URL/_fake/vm-state        (and /_fake/scale-set-state)
 *   curl -X POST --data missing|attached URL/_fake/identity
 *   curl -X POST --data pending|ready URL/_fake/rbac
 *   curl -X POST --data '{"route":"vm","fault":{"status":429,"headers":{"Retry-After":"3"}},"times":1}' URL/_fake/fault
 *   curl -X POST URL/_fake/revoke-tokens;  curl URL/_fake/calls;  curl URL/_fake/state
 *   curl -X POST --data '{"type":"Preempt","noticeSeconds":30}' URL/_fake/scheduled-events   (see scheduledEvents.ts)
 *   curl URL/_fake/scheduled-events      (the document, the acknowledgements and their times)
 */
import { FakeAzure } from "./index";

function main(): void {
  const args = process.argv.slice(2);
  const opts: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--enforce-budgets" || a === "--quiet") opts[a.slice(2)] = true;
    else if (a.indexOf("--") === 0 && i + 1 < args.length) opts[a.slice(2)] = args[++i];
    else {
      process.stderr.write(`fake-azure: unexpected argument ${a}\n`);
      process.exit(2);
    }
  }
  const str = (k: string) => (typeof opts[k] === "string" ? opts[k] : undefined);
  const fake = new FakeAzure({
    resourceId: str("resource-id"),
    vmId: str("vm-id"),
    azEnvironment: str("az-environment"),
    vmState: str("vm-state"),
    scaleSetState: str("scale-set-state"),
    tokenLifetimeSeconds: str("token-lifetime") ? Number(str("token-lifetime")) : undefined,
    enforceBudgets: opts["enforce-budgets"] === true,
    log: opts["quiet"] ? undefined : (line) => process.stderr.write(`fake-azure: ${line}\n`),
  });
  fake.listen(Number(str("port") || 0), str("host") || "127.0.0.1").then(
    (url) => process.stdout.write(`fake-azure listening on ${url}\n`),
    (err: Error) => {
      process.stderr.write(`fake-azure: cannot listen: ${err.message}\n`);
      process.exit(1);
    },
  );
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main();
