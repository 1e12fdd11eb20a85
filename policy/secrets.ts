/**
 * Secrets that must never travel in custom data: anything on the VM can read it (the waagent files),
 * and it is stored with the scale set model. Findings name the kind and the line, never the value.
 */
import { ScaleSetFacts } from "./facts";
import { UNKNOWN } from "./unknowns";

interface SecretPattern {
  kind: string;
  re: RegExp;
  /** Rejects a match that is not a literal secret (a boolean setting, a variable reference). */
  literal?: (value: string) => boolean;
}

const NOT_A_SECRET_VALUE = /^(?:true|false|yes|no|on|off|null|none|\$.*|<.*>)$/i;

const SECRET_PATTERNS: SecretPattern[] = [
  { kind: "a private key", re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { kind: "a storage account key", re: /AccountKey=[A-Za-z0-9+/]{20,}={0,2}/i },
  { kind: "a shared access key", re: /SharedAccessKey=[A-Za-z0-9+/]{20,}={0,2}/i },
  { kind: "a SAS signature", re: /[?&]sig=[A-Za-z0-9%+/=_-]{16,}/i },
  {
    kind: "a cloud-init password",
    re: /^[ \t]*-?[ \t]*(?:plain_text_passwd|hashed_passwd|passwd)[ \t]*:[ \t]*["']?([^\s"'#]+)/im,
    literal: (v) => !NOT_A_SECRET_VALUE.test(v),
  },
  { kind: "a chpasswd list", re: /^\s*chpasswd\s*:\s*$(?:\n\s+.*)*?\n\s+(?:list|users)\s*:/im },
  {
    kind: "a password",
    re: /\b[\w.-]*passw(?:or)?d[\w.-]*[ \t]*[:=][ \t]*["']?([^\s"'#,;]{3,})/i,
    literal: (v) => !NOT_A_SECRET_VALUE.test(v),
  },
  { kind: "a password flag", re: /--password(?:=|\s+)["']?([^\s"']+)/i, literal: (v) => !NOT_A_SECRET_VALUE.test(v) },
];

/** Kinds of secret found, each with its line number; never the value itself. */
export function findSecrets(text: string): string[] {
  const found: string[] = [];
  for (const { kind, re, literal } of SECRET_PATTERNS) {
    const all = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
    for (const m of text.matchAll(all)) {
      if (literal && !literal(m[1] ?? "")) continue;
      const line = text.slice(0, m.index).split("\n").length;
      found.push(`${kind} (line ${line})`);
      break;
    }
  }
  return found;
}

export function checkCustomDataSecrets(facts: ScaleSetFacts): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN) return [];
  // write_files content encoded as b64 or gz+b64 is as readable on the VM as plain text.
  const found = [
    ...findSecrets(cd.text),
    ...[...facts.files].flatMap(([file, content]) =>
      findSecrets(content).map((f) => `${f.replace(/\)$/, "")} of ${file})`),
    ),
  ];
  if (found.length === 0) return [];
  return [
    `custom data carries ${found.join(", ")}: anything on the VM can read custom data, so pass secrets through Key Vault and the managed identity instead`,
  ];
}
