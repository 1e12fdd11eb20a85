/** The bits of QMP the e2e needs: a clean ACPI power-off, as a user's `shutdown` would be. */
import { JsonSocket } from "./jsonSocket";

const QMP_REPLY_TIMEOUT_MS = 10_000;

export class Qmp {
  private constructor(private readonly sock: JsonSocket) {}

  static async connect(path: string): Promise<Qmp> {
    const sock = await JsonSocket.connect(path, QMP_REPLY_TIMEOUT_MS);
    await sock.next((m) => "QMP" in m, QMP_REPLY_TIMEOUT_MS);
    const qmp = new Qmp(sock);
    await qmp.execute("qmp_capabilities");
    return qmp;
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    this.sock.send(args ? { execute: command, arguments: args } : { execute: command });
    const reply = await this.sock.next((m) => "return" in m || "error" in m, QMP_REPLY_TIMEOUT_MS);
    if (reply.error) throw new Error(`QMP ${command}: ${reply.error.class}: ${reply.error.desc}`);
    return reply.return;
  }

  close(): void {
    this.sock.close();
  }
}
