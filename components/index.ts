export * from "./defaults";
export {
  DeliveryMode,
  WorkerKind,
  customScriptCommand,
  renderLauncher,
  renderWorkerUnit,
  renderPerBootScript,
  PER_BOOT_SCRIPT_PATH,
  UNIT_PATH,
} from "./delivery";
export {
  renderCustomData,
  encodeCustomData,
  CustomDataOptions,
  EncodedCustomData,
  CustomDataTooLargeError,
} from "./customData";
export { validateWorkerScaleSetArgs, sshKeyProblem } from "./validate";
export { WorkerScaleSetArgs, ImageReference, AutomaticRepairs } from "./workerScaleSetArgs";
export {
  RepairAction,
  DEFAULT_HEALTH_PORT,
  HEALTH_EXTENSION_NAME,
  HEALTH_EXTENSION_PUBLISHER,
  HEALTH_EXTENSION_TYPE,
  HEALTH_EXTENSION_TYPE_HANDLER_VERSION,
  healthExtension,
  healthGracePeriodSeconds,
  automaticRepairsPolicy,
  DEFAULT_REPAIR_ACTION,
  DEFAULT_REPAIR_GRACE_PERIOD,
  DEFAULT_AUTOMATIC_REPAIRS_ENABLED,
} from "./health";
export {
  WorkerScaleSet,
  WORKER_SCALE_SET_TYPE,
  CUSTOM_SCRIPT_PUBLISHER,
  CUSTOM_SCRIPT_TYPE,
  CUSTOM_SCRIPT_TYPE_HANDLER_VERSION,
} from "./workerScaleSet";
export { armGuid } from "./armGuid";
