/**
 * A fake Pulumi engine and resource monitor on one gRPC port, for a component provider's
 * Construct. The CLI passes the engine's address as the provider's argument and the monitor's
 * in each ConstructRequest; the provider's SDK then asks SupportsFeature, invokes functions,
 * registers the component and its children, and logs. Registrations and invokes are answered by
 * the mock runtime's own logic and recorded in a ResourceRecorder, as in every mocked test.
 * Any other call fails with UNIMPLEMENTED, so a test sees what it did not expect.
 */
import { ResourceRecorder, callMockFunction, registerMockResource } from "../pulumiMocks";
import {
  emptyProto,
  engineProto,
  engineRpc,
  grpc,
  providerProto,
  resourceProto,
  resourceRpc,
  structProto,
} from "./protocol";
import type { grpcModule } from "./protocol";

/** The monitor features a v3.248.0 engine reports (pkg/resource/deploy/source_eval.go supportsFeatureID). */
export const ENGINE_FEATURES = [
  "secrets",
  "resourceReferences",
  "outputValues",
  "aliasSpecs",
  "replacementTrigger",
  "deletedWith",
  "replaceWith",
  "transforms",
  "invokeTransforms",
  "parameterization",
  "resourceHooks",
  "errorHooks",
  "sendsOptionsToHooks",
];

export interface FakeEngine {
  /** 127.0.0.1:<port>: both the engine's and the monitor's address. */
  address: string;
  /** The URN of each registered resource, by name. */
  urns: Map<string, string>;
  /** RegisterResourceOutputs calls: URN → outputs as sent. */
  registeredOutputs: Map<string, Record<string, unknown>>;
  /** Engine.Log calls. */
  logs: Array<{ severity: engineProto.LogSeverity; message: string }>;
  stop(): Promise<void>;
}

type Handlers = Record<string, grpcModule.handleUnaryCall<any, any>>;

/** Every method of `service`: the given handler, or an UNIMPLEMENTED answer naming the method. */
function implement(service: grpcModule.ServiceDefinition, given: Handlers): grpcModule.UntypedServiceImplementation {
  const out: grpcModule.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) {
    out[method] =
      given[method] ??
      ((_call: unknown, callback: grpcModule.sendUnaryData<unknown>) =>
        callback({ code: grpc.status.UNIMPLEMENTED, details: `the fake engine does not implement ${method}` }));
  }
  return out;
}

export async function startFakeEngine(options: {
  recorder: ResourceRecorder;
  project: string;
  stack: string;
}): Promise<FakeEngine> {
  const { recorder, project, stack } = options;
  const urns = new Map<string, string>();
  /** URN → its type chain (`parent$child`), which a child's URN repeats. */
  const typeChains = new Map<string, string>();
  const registeredOutputs = new Map<string, Record<string, unknown>>();
  const logs: FakeEngine["logs"] = [];

  const monitor: Handlers = {
    supportsFeature(call: grpcModule.ServerUnaryCall<resourceProto.SupportsFeatureRequest, unknown>, callback) {
      callback(
        null,
        new resourceProto.SupportsFeatureResponse().setHassupport(ENGINE_FEATURES.includes(call.request.getId())),
      );
    },
    registerResource(call: grpcModule.ServerUnaryCall<resourceProto.RegisterResourceRequest, unknown>, callback) {
      const req = call.request;
      const parentChain = typeChains.get(req.getParent());
      const typeChain = parentChain ? `${parentChain}$${req.getType()}` : req.getType();
      const urn = `urn:pulumi:${stack}::${project}::${typeChain}::${req.getName()}`;
      urns.set(req.getName(), urn);
      typeChains.set(urn, typeChain);
      const { id, state } = registerMockResource(recorder, {
        type: req.getType(),
        name: req.getName(),
        inputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, any>,
        custom: req.getCustom(),
      });
      const response = new resourceProto.RegisterResourceResponse()
        .setUrn(urn)
        .setObject(structProto.Struct.fromJavaScript(state));
      if (id) response.setId(id);
      callback(null, response);
    },
    registerResourceOutputs(
      call: grpcModule.ServerUnaryCall<resourceProto.RegisterResourceOutputsRequest, unknown>,
      callback,
    ) {
      registeredOutputs.set(call.request.getUrn(), call.request.getOutputs()?.toJavaScript() ?? {});
      callback(null, new emptyProto.Empty());
    },
    invoke(call: grpcModule.ServerUnaryCall<resourceProto.ResourceInvokeRequest, unknown>, callback) {
      const args = (call.request.getArgs()?.toJavaScript() ?? {}) as Record<string, any>;
      const result = callMockFunction(recorder, call.request.getTok(), args);
      // The monitor answers with provider.proto's InvokeResponse; resource.proto has none.
      callback(null, new providerProto.InvokeResponse().setReturn(structProto.Struct.fromJavaScript(result)));
    },
  };
  const engine: Handlers = {
    log(call: grpcModule.ServerUnaryCall<engineProto.LogRequest, unknown>, callback) {
      logs.push({ severity: call.request.getSeverity(), message: call.request.getMessage() });
      callback(null, new emptyProto.Empty());
    },
  };

  const server = new grpc.Server();
  server.addService(resourceRpc.ResourceMonitorService, implement(resourceRpc.ResourceMonitorService, monitor));
  server.addService(engineRpc.EngineService, implement(engineRpc.EngineService, engine));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    urns,
    registeredOutputs,
    logs,
    stop: () =>
      new Promise<void>((resolve) =>
        server.tryShutdown(() => {
          resolve();
        }),
      ),
  };
}
