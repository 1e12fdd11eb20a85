/**
 * A client for the calls the CLI makes on a component provider: GetSchema when a consumer runs
 * `pulumi package add` (and when an SDK is generated), Construct for each `new WorkerScaleSet`.
 */
import {
  INPUT_PROPERTIES_ERROR_TYPE,
  errorsProto,
  grpc,
  providerProto,
  providerRpc,
  statusProto,
  structProto,
} from "./protocol";
import type { grpcModule } from "./protocol";
import type { PackageSchema } from "./schema";

export interface ConstructRequest {
  /** The resource type token, e.g. hpc-workers:index:WorkerScaleSet. */
  type: string;
  name: string;
  /** The inputs as the consumer's SDK sends them: schema (camelCase) names, plain JSON values. */
  inputs: Record<string, unknown>;
  /** The resource monitor the component registers its children with. */
  monitorAddress: string;
  project: string;
  stack: string;
  dryRun: boolean;
}

export interface PropertyError {
  propertyPath: string;
  reason: string;
}

export type ConstructOutcome =
  | { kind: "constructed"; urn: string; state: Record<string, unknown> }
  /** INVALID_ARGUMENT, as a provider reports an InputPropertiesError. */
  | { kind: "rejected"; message: string; propertyErrors: PropertyError[] };

export interface ProviderClient {
  getSchema(): Promise<PackageSchema>;
  construct(request: ConstructRequest): Promise<ConstructOutcome>;
  close(): void;
}

/** The property errors a provider packs into the status details (provider/server.js
 *  buildInvalidPropertiesError in @pulumi/pulumi); none when the status carries no such detail. */
export function decodePropertyErrors(error: grpcModule.ServiceError): PropertyError[] {
  const details = error.metadata?.get("grpc-status-details-bin") ?? [];
  if (details.length === 0) return [];
  const status = statusProto.Status.deserializeBinary(new Uint8Array(details[0] as Buffer));
  return status.getDetailsList().flatMap((any) => {
    if (any.getTypeName() !== INPUT_PROPERTIES_ERROR_TYPE) return [];
    const decoded = any.unpack(errorsProto.InputPropertiesError.deserializeBinary, INPUT_PROPERTIES_ERROR_TYPE);
    return (decoded?.getErrorsList() ?? []).map((e) => ({ propertyPath: e.getPropertyPath(), reason: e.getReason() }));
  });
}

export function connectProvider(address: string): ProviderClient {
  const client = new providerRpc.ResourceProviderClient(address, grpc.credentials.createInsecure());
  return {
    getSchema() {
      // The CLI asks for version 0; the Node.js provider refuses any other.
      const request = new providerProto.GetSchemaRequest().setVersion(0);
      return new Promise((resolve, reject) =>
        client.getSchema(request, (err, response) =>
          err
            ? reject(new Error(`GetSchema failed: ${err.details || err.message}`))
            : resolve(JSON.parse(response.getSchema())),
        ),
      );
    },

    construct(req) {
      const request = new providerProto.ConstructRequest()
        .setProject(req.project)
        .setStack(req.stack)
        .setOrganization("organization")
        .setDryrun(req.dryRun)
        .setParallel(1)
        .setMonitorendpoint(req.monitorAddress)
        .setType(req.type)
        .setName(req.name)
        .setInputs(structProto.Struct.fromJavaScript(req.inputs as Record<string, structProto.JavaScriptValue>))
        .setAcceptsOutputValues(true);
      return new Promise((resolve, reject) =>
        client.construct(request, (err, response) => {
          if (err && err.code === grpc.status.INVALID_ARGUMENT) {
            resolve({ kind: "rejected", message: err.details, propertyErrors: decodePropertyErrors(err) });
          } else if (err) {
            reject(new Error(`Construct failed with ${grpc.status[err.code]}: ${err.details}`));
          } else {
            resolve({ kind: "constructed", urn: response.getUrn(), state: response.getState()?.toJavaScript() ?? {} });
          }
        }),
      );
    },

    close: () => client.close(),
  };
}
