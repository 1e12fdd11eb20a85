// StrykerJS mutation testing: `npm run mutate` (README, "Mutation testing"). Kept out of `npm test`: it is slow.
//
// Two scopes, each with the specs that can kill its mutants in-process (the mocha runner loads
// .mocharc.json: ts-node transpile-only). Left out on purpose: specs that run the BUILT agent
// bundle or spawn processes (agent-process, agent-bundle, provider, package, policy-package, policy-grpc: they
// never load the mutated source, so they kill nothing and only cost time) and fleet-sim (it runs
// the real core at fleet scale, so it covers every agent mutant and costs ~5 s per survivor, for
// budgets the agent's own specs already hold per VM).
//
// `npm run mutate -- --mutate 'agent/src/core/**/*.ts'` narrows the run: only the scopes a --mutate
// glob names load their specs (a static mutant reloads every spec file in a fresh process, so a
// narrowed run must not load the other scope's). Without --mutate, or with a glob naming neither
// folder, both scopes run.
const SCOPES = [
  {
    name: "agent",
    mutate: "agent/src/core/**/*.ts",
    // The agent alone: the checker re-checks 60 files per mutant group, not the whole tree (~40 s, 800 MB).
    tsconfig: "agent/tsconfig.json",
    // Fast, sharp files first: mocha bails at the first failure, in this order.
    spec: [
      "test/agent-args.spec.ts",
      "test/agent-drain-args.spec.ts",
      "test/agent-health-verdicts.spec.ts",
      "test/agent-inputs.spec.ts",
      "test/agent-token.spec.ts",
      "test/agent-retry.spec.ts",
      "test/agent-policy.spec.ts",
      "test/agent-policy-formulas.spec.ts",
      "test/agent-journal.spec.ts",
      "test/agent-retry-after-gate.spec.ts",
      "test/agent-arm-answers.spec.ts",
      "test/agent-arm-faults.spec.ts",
      "test/agent-core.spec.ts",
      "test/agent-kept-file.spec.ts",
      "test/agent-health.spec.ts",
      "test/agent-drain-plan.spec.ts",
      "test/agent-drain.spec.ts",
      "test/agent-drain-journal.spec.ts",
      "test/agent-drain-health.spec.ts",
    ],
  },
  {
    name: "components",
    mutate: "components/**/*.ts",
    // A static mutant (a module-level constant: a DEFAULT_*, Azure's reserved-name table, a unit's fixed
    // line) runs at import, so Stryker cannot tell which tests cover it and reruns all ~270 specs (~90 s,
    // the shells and cloud-init schema included) for each of ~220: hours. They are left out of this
    // scope's score; the table tests pin those constants instead (README, "Mutation testing").
    ignoreStatic: true,
    tsconfig: "tsconfig.build.json",
    spec: [
      "test/armGuid.spec.ts",
      "test/validation.spec.ts",
      "test/validation-fields.spec.ts",
      "test/component-details.spec.ts",
      "test/waiter-bundle-location.spec.ts",
      "test/component.spec.ts",
      "test/spot.spec.ts",
      "test/health-extension.spec.ts",
      "test/program.spec.ts",
      "test/policy-happy.spec.ts",
      "test/policy-waiter-gate.spec.ts",
      "test/policy-access.spec.ts",
      "test/policy-custom-data.spec.ts",
      "test/policy-health.spec.ts",
      "test/policy-config.spec.ts",
      "test/policy-preview-unknowns.spec.ts",
      "test/policy-metadata.spec.ts",
      "test/policy-spot.spec.ts",
      // These run the rendered shell (launcher, node installer, kept-file extension, health and drain units)
      // under bash, systemd-analyze, shellcheck and cloud-init: what the VM runs. Slowest last.
      "test/drain-unit.spec.ts",
      "test/nodeInstall.spec.ts",
      "test/health-units.spec.ts",
      "test/launcher.spec.ts",
      "test/kept-extension.spec.ts",
      "test/delivery.spec.ts",
    ],
  },
];

/** The --mutate / -m globs given on the command line (comma-separated, as Stryker reads them), or undefined. */
function mutateArgs(argv) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith("--mutate=")) return arg.slice("--mutate=".length).split(",");
    if ((arg === "--mutate" || arg === "-m") && i + 1 < argv.length) return argv[i + 1].split(",");
  }
  return undefined;
}

const folder = (scope) => scope.mutate.slice(0, scope.mutate.indexOf("*"));
const globs = mutateArgs(process.argv);
const named = globs ? SCOPES.filter((s) => globs.some((g) => g.replace(/^!/, "").startsWith(folder(s)))) : [];
const scopes = named.length ? named : SCOPES;
// One incremental file and report per scope run (a narrowed run writes only its own files' results): .cache/stryker/<name>.*
const cache = `.cache/stryker/${scopes.length === 1 ? scopes[0].name : "all"}`;

export default {
  $schema: "./node_modules/@stryker-mutator/core/schema/stryker-schema.json",
  packageManager: "npm",
  testRunner: "mocha",
  mutate: SCOPES.map((s) => s.mutate),
  mochaOptions: { config: ".mocharc.json", spec: scopes.flatMap((s) => s.spec) },
  coverageAnalysis: "perTest",
  ignoreStatic: scopes.some((s) => s.ignoreStatic === true),
  checkers: ["typescript"],
  tsconfigFile: scopes.length === 1 ? scopes[0].tsconfig : "tsconfig.json",
  // The machine is shared (qemu e2e guests): one test runner, beside the one checker; `npm run mutate` runs it under nice.
  concurrency: 1,
  // Beyond a test's own time: the fake-clock tests take milliseconds, so a mutant that runs 5 s more loops
  // (a sleep that never advances the clock is caught sooner, by Stryker's hit limit).
  timeoutMS: 5000,
  // Reuses the last run's results for unchanged code and tests; `--force` runs everything. Not committed (.cache/):
  // it goes stale with any change to testkit/, which Stryker cannot see, and would conflict on every merge.
  incremental: true,
  incrementalFile: `${cache}.incremental.json`,
  tempDirName: ".stryker-tmp",
  // agent/dist stays: the components render the built waiter into the custom data.
  ignorePatterns: ["/.cache", "/.ci", "/bin", "/e2e", "/docs", "/examples", "/policy/node_modules"],
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: `${cache}.mutation.html` },
  jsonReporter: { fileName: `${cache}.mutation.json` },
  clearTextReporter: { allowEmojis: false, logTests: false },
};
