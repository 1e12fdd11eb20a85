/** Reading rendered cloud-init documents back, the way cloud-init's write_files decodes them. */
import { strict as assert } from "assert";
import * as zlib from "zlib";
import * as YAML from "yaml";

export interface CloudConfigFile {
  path: string;
  content?: string;
  encoding?: string;
  permissions?: string;
}

export function parseCloudConfig(text: string): Record<string, any> {
  assert.ok(text.startsWith("#cloud-config\n"), "user-data must start with #cloud-config");
  const doc = YAML.parse(text);
  assert.equal(typeof doc, "object");
  return doc;
}

/** The bytes cloud-init writes for one write_files entry. */
export function fileBytes(file: CloudConfigFile): Buffer {
  const content = file.content ?? "";
  switch (file.encoding ?? "text/plain") {
    case "b64":
    case "base64":
      return Buffer.from(content, "base64");
    case "gz+b64":
    case "gzip+base64":
    case "gz+base64":
    case "gzip+b64":
      return zlib.gunzipSync(Buffer.from(content, "base64"));
    case "text/plain":
      return Buffer.from(content, "utf8");
    default:
      throw new Error(`unexpected encoding ${file.encoding}`);
  }
}

/** The decoded text of the file written at `path`; throws when there is none. */
export function writeFile(doc: Record<string, any>, path: string): string {
  const files = (doc.write_files ?? []) as CloudConfigFile[];
  const matches = files.filter((f) => f.path === path);
  assert.equal(matches.length, 1, `exactly one write_files entry for ${path}`);
  return fileBytes(matches[0]).toString("utf8");
}
