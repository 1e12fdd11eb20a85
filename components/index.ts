export * from "./defaults";
export { DeliveryMode, WorkerKind, customScriptCommand, renderPerBootScript, PER_BOOT_SCRIPT_PATH } from "./delivery";
export { renderLauncher, LAUNCHER_NO_USABLE_NODE_EXIT } from "./launcher";
export { renderNodeInstaller } from "./nodeInstall";
export {
  renderDrainScript,
  renderDrainUnit,
  drainWatcherArguments,
  DRAIN_UNIT_PATH,
  DRAIN_RESTART_SEC,
} from "./drainUnit";
export {
  renderWorkerUnit,
  renderNodeInstallUnit,
  UNIT_PATH,
  NODE_INSTALL_UNIT_PATH,
  WORKER_UNIT_FINAL_EXIT_STATUSES,
} from "./units";
export {
  renderCustomData,
  encodeCustomData,
  CustomDataOptions,
  EncodedCustomData,
  CustomDataTooLargeError,
} from "./customData";
export { validateWorkerScaleSetArgs, sshKeyProblem } from "./validate";
export {
  Priority,
  DEFAULT_DRAIN_SECONDS,
  MAX_DRAIN_SECONDS,
  SPOT_MAX_DRAIN_SECONDS,
  drainWithin,
  evictionProfile,
  spotProblems,
} from "./spot";
export { isoDurationSeconds, isoDurationMinutes, validMaxPrice } from "./azureFormats";
export { WorkerScaleSetArgs, ImageReference, AutomaticRepairs } from "./workerScaleSetArgs";
export {
  RepairAction,
  DEFAULT_HEALTH_PORT,
  HEALTH_EXTENSION_NAME,
  HEALTH_EXTENSION_PUBLISHER,
  HEALTH_EXTENSION_TYPE,
  HEALTH_EXTENSION_TYPE_HANDLER_VERSION,
  healthExtension,
  HealthExtension,
  healthGracePeriodSeconds,
  automaticRepairsPolicy,
  DEFAULT_REPAIR_ACTION,
  DEFAULT_REPAIR_GRACE_PERIOD,
  DEFAULT_AUTOMATIC_REPAIRS_ENABLED,
} from "./health";
export { WorkerScaleSet, WORKER_SCALE_SET_TYPE } from "./workerScaleSet";
export {
  CUSTOM_SCRIPT_PUBLISHER,
  CUSTOM_SCRIPT_TYPE,
  CUSTOM_SCRIPT_TYPE_HANDLER_VERSION,
  START_EXTENSION_NAME,
  KEPT_EXTENSION_NAME,
  KEPT_PROOF_IMDS_TRIES,
  KEPT_PROOF_MAX_SECONDS,
  ExtensionOptions,
  ScaleSetExtension,
  keptFileCommand,
  renderExtensions,
  scaleSetExtensions,
  ScaleSetExtensionsOptions,
} from "./extensions";
export { HealthState } from "../agent/src/core/healthState";
export { armGuid } from "./armGuid";
