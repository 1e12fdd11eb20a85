/**
 * The Application Health extension the component adds, and the repairs policy: its settings against
 * the extension's documented (and enforced) limits, the grace-period arithmetic, the ISO 8601
 * durations automatic repairs take.
 */
import { strict as assert } from "assert";
import { DEFAULT_HEALTH_PORT, HEALTH_PATH } from "../agent/src/core/healthServer";
import {
  automaticRepairsPolicy,
  DEFAULT_REPAIR_ACTION,
  DEFAULT_REPAIR_GRACE_PERIOD,
  HEALTH_BOOT_ALLOWANCE_SECONDS,
  HEALTH_EXTENSION_NAME,
  HealthExtension,
  healthExtension,
  healthExtensionSettings,
  healthGracePeriodSeconds,
  healthProbeSettleSeconds,
  MAX_HEALTH_GRACE_PERIOD_SECONDS,
  MAX_HEALTH_INTERVAL_SECONDS,
  MAX_HEALTH_PROBE_SETTLE_SECONDS,
  MAX_HEALTH_PROBES,
  MAX_REPAIR_GRACE_MINUTES,
  MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION,
  MIN_HEALTH_GRACE_PERIOD_SECONDS,
  MIN_HEALTH_INTERVAL_SECONDS,
  MIN_HEALTH_PROBES,
  MIN_REPAIR_GRACE_MINUTES,
  RepairAction,
} from "../components/health";
import { DEFAULT_WAITER_TIMEOUT_SECONDS } from "../components/waiterContract";
import { DeliveryMode } from "../components/delivery";
import { isoDurationMinutes } from "../components/azureFormats";
import { KEPT_EXTENSION_NAME, START_EXTENSION_NAME, scaleSetExtensions } from "../components/extensions";

describe("the Application Health extension and automatic repairs (components/health.ts)", () => {
  it("probes the shipped endpoint over http with Rich Health States (ApplicationHealthLinux 2.0, minor upgrades on)", () => {
    assert.deepEqual(healthExtension({}), {
      name: HEALTH_EXTENSION_NAME,
      publisher: "Microsoft.ManagedServices",
      type: "ApplicationHealthLinux",
      typeHandlerVersion: "2.0",
      autoUpgradeMinorVersion: true,
      settings: {
        protocol: "http",
        port: DEFAULT_HEALTH_PORT,
        requestPath: HEALTH_PATH,
        intervalInSeconds: 5,
        numberOfProbes: 6,
        gracePeriod: DEFAULT_WAITER_TIMEOUT_SECONDS + HEALTH_BOOT_ALLOWANCE_SECONDS + 30,
      },
    });
    assert.equal(healthExtension({}).settings.gracePeriod, 8130);
  });

  it("is provisioned after the extensions it is given, and only then carries provisionAfterExtensions", () => {
    assert.deepEqual(healthExtension({ provisionAfter: ["hpc-worker-start"] }).provisionAfterExtensions, [
      "hpc-worker-start",
    ]);
    assert.equal("provisionAfterExtensions" in healthExtension({ provisionAfter: [] }), false);
    assert.equal("provisionAfterExtensions" in healthExtension({}), false);
  });

  it("comes last in the model of every mode, after the one CSE (start or kept proof), with the model's port and timeout", () => {
    const expected: Array<[DeliveryMode, boolean, string[]]> = [
      [DeliveryMode.Systemd, true, [KEPT_EXTENSION_NAME]],
      [DeliveryMode.Systemd, false, []],
      [DeliveryMode.CloudInit, true, [KEPT_EXTENSION_NAME]],
      [DeliveryMode.CloudInit, false, []],
      [DeliveryMode.CustomScript, true, [START_EXTENSION_NAME]],
      [DeliveryMode.CustomScript, false, [START_EXTENSION_NAME]],
    ];
    for (const [delivery, overprovision, before] of expected) {
      const model = scaleSetExtensions({ delivery, overprovision, healthPort: 20000, timeoutSeconds: 600 });
      assert.deepEqual(
        model.map((e) => e.name),
        [...before, HEALTH_EXTENSION_NAME],
        `${delivery}, overprovision ${overprovision}`,
      );
      const health = model[model.length - 1] as HealthExtension;
      assert.deepEqual(health.provisionAfterExtensions, before.length > 0 ? before : undefined);
      assert.equal(health.settings.port, 20000);
      assert.equal(health.settings.gracePeriod, 600 + HEALTH_BOOT_ALLOWANCE_SECONDS + 30);
      assert.deepEqual(
        scaleSetExtensions({ delivery, overprovision, healthExtension: false }).map((e) => e.name),
        before,
      );
    }
  });

  it("keeps interval, probe count, settle time and grace period inside the limits the extension enforces", () => {
    const s = healthExtensionSettings({ timeoutSeconds: 1 });
    assert.ok(s.intervalInSeconds >= MIN_HEALTH_INTERVAL_SECONDS && s.intervalInSeconds <= MAX_HEALTH_INTERVAL_SECONDS);
    assert.ok(s.numberOfProbes >= MIN_HEALTH_PROBES && s.numberOfProbes <= MAX_HEALTH_PROBES);
    assert.ok(healthProbeSettleSeconds() <= MAX_HEALTH_PROBE_SETTLE_SECONDS);
    assert.ok(s.gracePeriod >= MIN_HEALTH_GRACE_PERIOD_SECONDS);
    const longest = healthExtensionSettings({ timeoutSeconds: MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION });
    assert.equal(longest.gracePeriod, MAX_HEALTH_GRACE_PERIOD_SECONDS);
    assert.equal(MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION, 13470);
    // Only the keys the extension's schema knows (additionalProperties: false).
    assert.deepEqual(Object.keys(s).sort(), [
      "gracePeriod",
      "intervalInSeconds",
      "numberOfProbes",
      "port",
      "protocol",
      "requestPath",
    ]);
  });

  it("covers the waiter's whole wait with the grace period: its timeout, the boot allowance and the settle time", () => {
    for (const timeout of [1, 600, 7200, 13470]) {
      assert.equal(healthGracePeriodSeconds(timeout), timeout + HEALTH_BOOT_ALLOWANCE_SECONDS + 30);
      assert.ok(healthGracePeriodSeconds(timeout) > timeout);
    }
    assert.equal(healthGracePeriodSeconds(), healthGracePeriodSeconds(DEFAULT_WAITER_TIMEOUT_SECONDS));
  });

  it("reads ISO 8601 durations of hours and minutes, and nothing else", () => {
    const cases: Array<[string, number | undefined]> = [
      ["PT10M", 10],
      ["PT90M", 90],
      ["PT1H", 60],
      ["PT1H30M", 90],
      ["PT0M", 0],
      ["PT", undefined],
      ["PT10S", undefined],
      ["P1D", undefined],
      ["10M", undefined],
      ["pt10m", undefined],
      ["PT1.5H", undefined],
      [" PT10M", undefined],
    ];
    for (const [value, minutes] of cases) assert.equal(isoDurationMinutes(value), minutes, value);
    assert.equal(isoDurationMinutes(DEFAULT_REPAIR_GRACE_PERIOD), MIN_REPAIR_GRACE_MINUTES);
    assert.equal(MAX_REPAIR_GRACE_MINUTES, 90);
  });

  it("writes every field of the repairs policy, the platform's defaults stated", () => {
    assert.deepEqual(automaticRepairsPolicy({}), { enabled: true, gracePeriod: "PT10M", repairAction: "Replace" });
    assert.deepEqual(automaticRepairsPolicy({ enabled: false, gracePeriod: "PT1H", action: RepairAction.Reimage }), {
      enabled: false,
      gracePeriod: "PT1H",
      repairAction: "Reimage",
    });
    assert.equal(DEFAULT_REPAIR_ACTION, RepairAction.Replace);
    assert.deepEqual(Object.values(RepairAction), ["Replace", "Reimage", "Restart"]);
  });
});
