import { DeliveryMode } from "../../components";
import { everyBootScenario } from "../lib/everyBoot";

// The plain first boot of the component's default custom data (installNodejs and overprovision left at their defaults).
everyBootScenario(DeliveryMode.Systemd, "an enabled hpc-worker.service");
