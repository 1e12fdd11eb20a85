/**
 * The checks of who can log in and who runs the worker: the admin's ssh key and user name as Azure
 * accepts them, and the worker's Linux user as useradd accepts it.
 */
import { Check, known, problem, show } from "./validateBase";

/** Azure's reserved Linux admin names. https://learn.microsoft.com/azure/virtual-machines/linux/faq#what-are-the-username-requirements-when-creating-a-vm- */
export const RESERVED_ADMIN_USERNAMES = new Set([
  "1",
  "123",
  "a",
  "actuser",
  "adm",
  "admin",
  "admin1",
  "admin2",
  "administrator",
  "aspnet",
  "backup",
  "console",
  "david",
  "guest",
  "john",
  "owner",
  "root",
  "server",
  "sql",
  "support",
  "support_388945a0",
  "sys",
  "test",
  "test1",
  "test2",
  "test3",
  "user",
  "user1",
  "user2",
  "user3",
  "user4",
  "user5",
  "video",
]);
/** Linux admin usernames are at most 64 characters (same FAQ). */
export const MAX_ADMIN_USERNAME_LENGTH = 64;
/** useradd's default NAME_REGEX, 32 characters at most. */
const WORKER_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
/** RSA keys shorter than this are refused; ECDSA is not supported at all.
 *  https://learn.microsoft.com/azure/virtual-machines/linux/mac-create-ssh-keys#supported-ssh-key-formats */
export const MIN_RSA_KEY_BITS = 2048;
export const SUPPORTED_SSH_KEY_TYPES = ["ssh-rsa", "ssh-ed25519"] as const;
/** Parses an OpenSSH public key line enough to know what Azure will say of it. */
export function sshKeyProblem(line: string): string | undefined {
  const parts = line.trim().split(/\s+/);
  const example = "paste the one-line public key, e.g. the contents of ~/.ssh/id_ed25519.pub";
  if (parts.length < 2) return `is not an OpenSSH public key ("TYPE BASE64 [comment]"); ${example}`;
  const [type, data] = parts;
  if (!(SUPPORTED_SSH_KEY_TYPES as readonly string[]).includes(type)) {
    return `has type ${show(type)}; Azure accepts only ${SUPPORTED_SSH_KEY_TYPES.join(" or ")} keys; ${example}`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return `has a key body that is not base64; ${example}`;
  const blob = Buffer.from(data, "base64");
  const fields: Buffer[] = [];
  for (let offset = 0; offset + 4 <= blob.length;) {
    const length = blob.readUInt32BE(offset);
    if (offset + 4 + length > blob.length) return `is truncated; ${example}`;
    fields.push(blob.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (fields.length === 0 || fields[0].toString("latin1") !== type)
    return `has a body that does not match its type ${type}; ${example}`;
  if (type === "ssh-rsa") {
    const modulus = fields[2];
    if (!modulus) return `is truncated; ${example}`;
    // An mpint's leading zero byte (when the top bit is set) counts itself out: Math.clz32(0) is 32.
    const bits = modulus.length * 8 - Math.clz32(modulus[0]) + 24;
    if (bits < MIN_RSA_KEY_BITS)
      return `is a ${bits}-bit RSA key; Azure requires at least ${MIN_RSA_KEY_BITS} bits (use ssh-keygen -t ed25519)`;
  }
  return undefined;
}

export const checkSshKey: Check = (args) => {
  const v = args.sshPublicKey;
  if (!known(v)) return [];
  if (typeof v !== "string") return [problem("sshPublicKey", `must be a string (got ${show(v)})`)];
  const why = sshKeyProblem(v);
  return why ? [problem("sshPublicKey", why)] : [];
};

export const checkAdminUsername: Check = (args) => {
  const v = args.adminUsername;
  if (!known(v)) return [];
  if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(v) || v.length > MAX_ADMIN_USERNAME_LENGTH) {
    return [
      problem(
        "adminUsername",
        `must be 1–${MAX_ADMIN_USERNAME_LENGTH} letters, digits, "_" or "-", not starting with a digit or "-" (got ${show(v)})`,
      ),
    ];
  }
  if (RESERVED_ADMIN_USERNAMES.has(v.toLowerCase())) {
    return [problem("adminUsername", `${show(v)} is reserved by Azure; choose another, e.g. "azureuser"`)];
  }
  return [];
};

export const checkWorkerUser: Check = (args) => {
  const v = args.workerUser;
  if (!known(v)) return [];
  return typeof v === "string" && WORKER_USER_PATTERN.test(v)
    ? []
    : [
        problem(
          "workerUser",
          `must be a Linux user name (lower case, digits, "_" or "-", at most 32 characters, not starting with a digit), e.g. "hpcworker" (got ${show(v)})`,
        ),
      ];
};
