/**
 * ARM's own `guid()` template function, so role assignment names match what Azure's templates
 * produce for the same inputs. `guid(a, b, c)` is an RFC 4122 §4.3 name-based (version 5, SHA-1)
 * UUID over ARM's fixed namespace, with the arguments joined by "-"; Terraform modules that must
 * agree with Bicep reproduce it as `uuidv5("11fb06fb-…", join("-", [...]))`.
 * https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-string#guid
 */
import * as crypto from "crypto";

/** The namespace UUID ARM's guid() hashes under. */
export const ARM_GUID_NAMESPACE = "11fb06fb-712d-4ddd-98c7-e71bbd588830";

/** RFC 4122 version-5 UUID of `name` (UTF-8) in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = crypto.createHash("sha1").update(ns).update(name, "utf8").digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** ARM's `guid(...parts)`. */
export function armGuid(...parts: string[]): string {
  return uuidV5(ARM_GUID_NAMESPACE, parts.join("-"));
}
