import { DeliveryMode } from "../../components";
import { everyBootScenario } from "../lib/everyBoot";

everyBootScenario(DeliveryMode.CloudInit, "a cloud-init per-boot script");
