/**
 * Another stack using the component from the package: a render farm in a network that a
 * platform team owns, read through a stack reference.
 *   npm install hpc-workers   (or a git/file dependency on this repository)
 */
import * as pulumi from "@pulumi/pulumi";
import { DeliveryMode, WorkerKind, WorkerScaleSet } from "hpc-workers";

const config = new pulumi.Config();
const network = new pulumi.StackReference(config.require("networkStack"));

const renderFarm = new WorkerScaleSet("render", {
  resourceGroupName: network.requireOutput("resourceGroupName") as pulumi.Output<string>,
  subnetId: network.requireOutput("workersSubnetId") as pulumi.Output<string>,
  sshPublicKey: config.require("sshPublicKey"),
  workerCommand: "/opt/render/bin/render-worker --queue frames --concurrency 4",
  delivery: DeliveryMode.CloudInit,
  workerKind: WorkerKind.Foreground,
  capacity: 200,
  vmSize: "Standard_F16s_v2",
  overprovision: true,
});

export const renderPrincipalId = renderFarm.principalId;
