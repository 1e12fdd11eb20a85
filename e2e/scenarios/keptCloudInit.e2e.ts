import { DeliveryMode } from "../../components";
import { keptScenario } from "../lib/keptBoot";

keptScenario(DeliveryMode.CloudInit);
