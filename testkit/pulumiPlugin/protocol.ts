/**
 * The gRPC library and the Pulumi protocol stubs, from one place. The stubs are the ones
 * @pulumi/pulumi ships (proto/*_pb.js), and @grpc/grpc-js is loaded from where those stubs load
 * it, so a client or server built here always speaks through the very copy the stubs register
 * their services with (@pulumi/pulumi depends on @grpc/grpc-js, so it is always installed).
 */
import { createRequire } from "module";
import type * as grpcModule from "@grpc/grpc-js";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import * as errorsProto from "@pulumi/pulumi/proto/errors_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import * as statusProto from "@pulumi/pulumi/proto/status_pb";
import * as emptyProto from "google-protobuf/google/protobuf/empty_pb";
import * as structProto from "google-protobuf/google/protobuf/struct_pb";

export const grpc: typeof grpcModule = createRequire(require.resolve("@pulumi/pulumi/proto/provider_grpc_pb"))(
  "@grpc/grpc-js",
);
export type { grpcModule };

export {
  emptyProto,
  engineProto,
  engineRpc,
  errorsProto,
  providerProto,
  providerRpc,
  resourceProto,
  resourceRpc,
  statusProto,
  structProto,
};

/** The type name of the detail a provider attaches to INVALID_ARGUMENT for bad inputs
 *  (pulumi/pulumi proto/pulumi/errors.proto, message InputPropertiesError). */
export const INPUT_PROPERTIES_ERROR_TYPE = "pulumirpc.InputPropertiesError";
