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
export {
  Priority,
  DEFAULT_DRAIN_SECONDS,
  MAX_DRAIN_SECONDS,
  SPOT_MAX_DRAIN_SECONDS,
  drainWithin,
  evictionProfile,
  isoDurationSeconds,
  spotProblems,
} from "./spot";
export { WorkerScaleSetArgs, ImageReference } from "./workerScaleSetArgs";
export {
  WorkerScaleSet,
  WORKER_SCALE_SET_TYPE,
  CUSTOM_SCRIPT_PUBLISHER,
  CUSTOM_SCRIPT_TYPE,
  CUSTOM_SCRIPT_TYPE_HANDLER_VERSION,
} from "./workerScaleSet";
export { armGuid } from "./armGuid";
