/** The one cloud-config reader (policy/cloudConfig.ts): write_files decoded as cloud-init does, and commands. */
import { strict as assert } from "assert";
import * as zlib from "zlib";
import { fileBytes, readCloudConfig } from "../policy/cloudConfig";

const TEXT = "#!/bin/sh\necho 'héllo' $HOME\n";
const b64 = (bytes: Buffer) => bytes.toString("base64");
const gz = zlib.gzipSync(Buffer.from(TEXT));

describe("cloud-config reader", () => {
  // cloudinit/config/cc_write_files.py, canonicalize_extraction.
  const encodings: [string | undefined, string][] = [
    [undefined, TEXT],
    ["text/plain", TEXT],
    ["b64", b64(Buffer.from(TEXT))],
    ["base64", b64(Buffer.from(TEXT))],
    [" B64 ", b64(Buffer.from(TEXT))],
    ["gz+b64", b64(gz)],
    ["gz+base64", b64(gz)],
    ["gzip+b64", b64(gz)],
    ["gzip+base64", b64(gz)],
    ["GZIP+BASE64", b64(gz)],
    ["x-unknown", TEXT],
  ];
  for (const [encoding, content] of encodings) {
    it(`writes the same bytes as cloud-init for encoding ${JSON.stringify(encoding)}`, () => {
      assert.equal(fileBytes({ path: "/f", content, encoding }).toString("utf8"), TEXT);
    });
  }

  for (const encoding of ["gz", "gzip"]) {
    it(`gunzips YAML !!binary content for encoding ${encoding}`, () => {
      const doc = `#cloud-config\nwrite_files:\n  - path: /f\n    encoding: ${encoding}\n    content: !!binary |\n      ${b64(gz)}\n`;
      assert.equal(readCloudConfig(doc).files.get("/f"), TEXT);
    });
  }

  it("throws on gzip content that is not gzip, and reads such a file as empty in a document", () => {
    assert.throws(() => fileBytes({ path: "/f", content: b64(Buffer.from(TEXT)), encoding: "gz+b64" }));
    const doc = `#cloud-config\nwrite_files:\n  - {path: /f, encoding: gz+b64, content: ${b64(Buffer.from("x"))}}\n`;
    assert.equal(readCloudConfig(doc).files.get("/f"), "");
  });

  it("lists runcmd and bootcmd entries, argv lists joined by spaces", () => {
    const doc = "#cloud-config\nbootcmd:\n  - echo early\nruncmd:\n  - [systemctl, start, a.service]\n  - echo late\n";
    assert.deepEqual(readCloudConfig(doc).commands, [
      { source: "bootcmd[0]", text: "echo early" },
      { source: "runcmd[0]", text: "systemctl start a.service" },
      { source: "runcmd[1]", text: "echo late" },
    ]);
  });

  it("reads nothing from a shell script, a document without the header, or invalid YAML", () => {
    for (const text of ["#!/bin/sh\necho hi\n", "write_files:\n  - {path: /f, content: x}\n", "#cloud-config\n: [\n"]) {
      const read = readCloudConfig(text);
      assert.equal(read.files.size, 0, text);
      assert.equal(read.commands.length, 0, text);
    }
  });
});
