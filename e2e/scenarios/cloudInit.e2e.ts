import { DeliveryMode } from "../../components";
import { everyBootScenario } from "../lib/everyBoot";

// Without overprovisioning: the waiter's shortest path from Succeeded to the worker.
everyBootScenario(DeliveryMode.CloudInit, "a cloud-init per-boot script", false);
