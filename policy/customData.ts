/**
 * The one custom-data decoder: `osProfile.customData` (base64) back to the text cloud-init reads,
 * gunzipped when the bytes start with the gzip magic. The pack, the offline preview and the tests
 * all use it; components/customData.ts only encodes.
 */
import * as zlib from "zlib";

/** gzip member header (RFC 1952, section 2.3.1): cloud-init accepts gzip-compressed user data. */
const GZIP_MAGIC = [0x1f, 0x8b];

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export interface DecodedCustomData {
  /** Characters of the base64 string sent to ARM. */
  base64Length: number;
  /** Bytes after base64 decoding: what the platform limit counts. */
  bytes: number;
  /** Whether the decoded bytes are gzip-compressed. */
  gzip: boolean;
  /** The text cloud-init reads (gunzipped when compressed). */
  text: string;
  /** False when the value is not base64 at all (ARM rejects it). */
  validBase64: boolean;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Decodes `osProfile.customData` the way the platform and cloud-init read it. */
export function decodeCustomData(base64: string): DecodedCustomData {
  const compact = base64.replace(/\s+/g, "");
  const validBase64 = BASE64_RE.test(compact) && compact.length % 4 === 0;
  const bytes = Buffer.from(compact, "base64");
  const gzip = isGzip(bytes);
  let text: string;
  if (!validBase64) {
    text = base64;
  } else if (gzip) {
    try {
      text = zlib.gunzipSync(bytes).toString("utf8");
    } catch {
      text = "";
    }
  } else {
    text = bytes.toString("utf8");
  }
  return {
    base64Length: base64.length,
    bytes: validBase64 ? bytes.length : Buffer.byteLength(base64),
    gzip,
    text,
    validBase64,
  };
}
