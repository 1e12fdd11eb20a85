export { launchComponentPlugin, readNodejsPluginRuntime, LaunchOptions, PluginProcess } from "./launch";
export {
  connectProvider,
  decodePropertyErrors,
  ConstructOutcome,
  ConstructRequest,
  PropertyError,
  ProviderClient,
} from "./providerClient";
export { startFakeEngine, ENGINE_FEATURES, FakeEngine } from "./fakeEngine";
export {
  PackageSchema,
  ResourceSpec,
  PropertySpec,
  TypeSpec,
  ComplexTypeSpec,
  EnumMemberSpec,
  tokenName,
  typeRef,
} from "./schema";
export { assertLibraryBuilt } from "./buildCheck";
