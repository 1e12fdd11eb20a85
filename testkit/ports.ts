/** Test networking helpers. */
import * as net from "net";

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it, then it was released). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
