/**
 * Reading rendered cloud-init documents back in tests: the one reader (policy/cloudConfig.ts, which
 * decodes write_files as cloud-init does) plus assertions that the document is what we expect.
 */
import { strict as assert } from "assert";
import { CloudConfigFile, fileBytes, parseCloudConfigDocument } from "../policy/cloudConfig";

export { CloudConfigFile, fileBytes };

export function parseCloudConfig(text: string): Record<string, any> {
  assert.ok(text.startsWith("#cloud-config\n"), "user-data must start with #cloud-config");
  const doc = parseCloudConfigDocument(text);
  assert.ok(doc, "user-data must be a YAML mapping");
  return doc;
}

/** The decoded text of the file written at `path`; throws when there is none. */
export function writeFile(doc: Record<string, any>, path: string): string {
  const files = (doc.write_files ?? []) as CloudConfigFile[];
  const matches = files.filter((f) => f.path === path);
  assert.equal(matches.length, 1, `exactly one write_files entry for ${path}`);
  return fileBytes(matches[0]).toString("utf8");
}
