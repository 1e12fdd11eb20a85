"""A render farm in a network that a platform team owns, read through a stack reference: the
Python twin of examples/consumer/index.ts, through the SDK generated from this repository.

    cd examples/python
    pulumi package add ../..      # or `pulumi install`: generates sdks/hpc-workers
    pulumi config set networkStack myorg/network/prod
    pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"
    pulumi up

test/provider.spec.ts checks every call below against the schema the provider serves.
"""
import pulumi
import pulumi_hpc_workers as hpc_workers

config = pulumi.Config()
network = pulumi.StackReference(config.require("networkStack"))

render_farm = hpc_workers.WorkerScaleSet(
    "render",
    resource_group_name=network.require_output("resourceGroupName"),
    subnet_id=network.require_output("workersSubnetId"),
    ssh_public_key=config.require("sshPublicKey"),
    worker_command="/opt/render/bin/render-worker --queue frames --concurrency 4",
    delivery=hpc_workers.DeliveryMode.CLOUD_INIT,
    worker_kind=hpc_workers.WorkerKind.FOREGROUND,
    capacity=200,
    vm_size="Standard_F16s_v2",
    overprovision=True,
    do_not_run_extensions_on_overprovisioned_vms=True,
    image=hpc_workers.ImageReferenceArgs(
        publisher="Canonical",
        offer="ubuntu-24_04-lts",
        sku="server",
        version="latest",
    ),
    tags={"team": "render"},
)

pulumi.export("renderPrincipalId", render_farm.principal_id)
pulumi.export("renderScaleSetName", render_farm.scale_set_name)
