/**
 * The pack's entry point for `pulumi preview --policy-pack policy`. Constructing a PolicyPack starts
 * the analyzer's gRPC server and never returns control, so nothing imports this file: tests and the
 * offline evaluator use ./policies directly.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description:
    "hpc-workers: scale sets gated by the waiter, their identity and least-privilege role assignments, and safe custom data.",
  provider: "azure-native",
  tags: ["azure", "vmss", "rbac", "cloud-init"],
  policies,
});
