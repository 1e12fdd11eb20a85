import { DeliveryMode } from "../../components";
import { everyBootScenario } from "../lib/everyBoot";

everyBootScenario(DeliveryMode.Systemd, "an enabled hpc-worker.service");
