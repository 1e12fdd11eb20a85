/**
 * The one cloud-config reader: a `#cloud-config` document's files (write_files, decoded as cloud-init
 * decodes them) and the commands it runs (runcmd, bootcmd). The pack reads custom data with it; the
 * tests and the offline preview read rendered documents back with it (testkit/cloudConfig.ts adds
 * assertions on top).
 */
import * as zlib from "zlib";
import * as YAML from "yaml";

/** One write_files entry. `content` is a string, or bytes when the YAML says `!!binary`. */
export interface CloudConfigFile {
  path: string;
  content?: string | Uint8Array;
  encoding?: string;
  permissions?: string;
}

/** A command cloud-init runs: an argv list (exec'd) or a string (run by `sh`), as one line of text. */
export interface CloudConfigCommand {
  /** Where it comes from, for messages: `runcmd[1]`. */
  source: string;
  text: string;
}

export interface CloudConfig {
  /** Files written, by path, decoded to text. */
  files: Map<string, string>;
  commands: CloudConfigCommand[];
}

/**
 * How cloud-init's write_files turns `encoding` into decoding steps (`canonicalize_extraction` in
 * cloudinit/config/cc_write_files.py): case and surrounding blanks ignored, gzip after base64, and
 * anything else (with a warning) taken as text/plain.
 * https://cloudinit.readthedocs.io/en/latest/reference/modules.html#write-files
 */
const WRITE_FILES_DECODING: Record<string, ("base64" | "gunzip")[]> = {
  gz: ["gunzip"],
  gzip: ["gunzip"],
  "gz+base64": ["base64", "gunzip"],
  "gzip+base64": ["base64", "gunzip"],
  "gz+b64": ["base64", "gunzip"],
  "gzip+b64": ["base64", "gunzip"],
  b64: ["base64"],
  base64: ["base64"],
  "text/plain": [],
};

/** cloud-init's modules that run commands: runcmd once per instance (cloud-final), bootcmd on every boot.
 *  https://cloudinit.readthedocs.io/en/latest/reference/modules.html */
const COMMAND_MODULES = ["bootcmd", "runcmd"];

/** The bytes cloud-init writes for one write_files entry. Throws when gzip content is not gzip. */
export function fileBytes(file: CloudConfigFile): Buffer {
  const content = file.content ?? "";
  let bytes = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
  const encoding = String(file.encoding ?? "")
    .toLowerCase()
    .trim();
  for (const step of WRITE_FILES_DECODING[encoding] ?? []) {
    bytes = step === "base64" ? Buffer.from(bytes.toString("latin1"), "base64") : zlib.gunzipSync(bytes);
  }
  return bytes;
}

/** Whether the text is a cloud-config document (its first line is the `#cloud-config` header). */
export function isCloudConfig(text: string): boolean {
  return /^#cloud-config\s*$/.test(text.split("\n", 1)[0] ?? "");
}

/** The parsed document, or undefined when the text is not a cloud-config document or not YAML. */
export function parseCloudConfigDocument(text: string): Record<string, any> | undefined {
  if (!isCloudConfig(text)) return undefined;
  try {
    const doc = YAML.parse(text);
    return doc && typeof doc === "object" && !Array.isArray(doc) ? doc : undefined;
  } catch {
    return undefined;
  }
}

function commandText(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) return entry.map(String).join(" ");
  return undefined;
}

/** Files and commands of a cloud-config document; empty for anything else. A file whose content
 *  cannot be decoded reads as empty. */
export function readCloudConfig(text: string): CloudConfig {
  const doc = parseCloudConfigDocument(text);
  const files = new Map<string, string>();
  const commands: CloudConfigCommand[] = [];
  for (const f of Array.isArray(doc?.write_files) ? doc.write_files : []) {
    if (typeof f?.path !== "string") continue;
    let decoded: string;
    try {
      decoded = fileBytes(f).toString("utf8");
    } catch {
      decoded = "";
    }
    files.set(f.path, decoded);
  }
  for (const module of COMMAND_MODULES) {
    const entries = doc?.[module];
    (Array.isArray(entries) ? entries : []).forEach((entry, i) => {
      const line = commandText(entry);
      if (line !== undefined) commands.push({ source: `${module}[${i}]`, text: line });
    });
  }
  return { files, commands };
}
