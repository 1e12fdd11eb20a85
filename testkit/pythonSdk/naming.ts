/**
 * The names Pulumi's Python code generator gives a package's modules, arguments, properties and
 * enum members, ported from pulumi/pulumi v3.248.0 (a88168d865b7fd428e5a929cc54aeceaf72d203f),
 * pkg/codegen/python: python.go (PyName, pyName, Keywords, EnsureKeywordSafe, useLegacyName),
 * gen.go (PyPack, InitParamName, unqualifiedObjectTypeName) and utilities.go
 * (isLegalIdentifierStart/Part, makeSafeEnumName). test/provider-python.spec.ts replays the
 * upstream table of python_test.go (pyNameTests).
 */

/** Python 2 and 3 keywords (python.go Keywords). */
const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except exec finally for " +
    "from global if import in is lambda nonlocal not or pass print raise return try while with yield"
  ).split(" "),
);

/** Names that keep the legacy result for compatibility (python.go useLegacyName). */
const LEGACY_NAMES = new Set(["openXJsonSerDe", "GetPublicIPs", "GetUptimeCheckIPs"]);

// utilities.go: the Unicode classes Python allows in identifiers (Go's unicode.In tables).
const LEGAL_START = /^[a-zA-Z_\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}]$/u;
const LEGAL_PART = /^[a-zA-Z_0-9\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]$/u;
const isUpper = (c: string) => /^\p{Lu}$/u.test(c);
const isDigit = (c: string) => /^\p{Nd}$/u.test(c);

function ensureKeywordSafe(name: string): string {
  return KEYWORDS.has(name) ? `${name}_` : name;
}

/** camelCase → snake_case, as pyName's four-state machine does it (see python.go for the transitions). */
function pyNameWith(name: string, legacy: boolean): string {
  type State = "first" | "upper" | "acronym" | "lowerOrNumber";
  const components: string[] = [];
  let current = "";
  let state: State = "first";
  for (let char of name) {
    if (!LEGAL_PART.test(char)) char = "_";
    switch (state) {
      case "first":
        if (!LEGAL_START.test(char)) current += "_";
        if (isUpper(char)) {
          state = "upper";
          current += char.toLowerCase();
        } else {
          state = "lowerOrNumber";
          current += char;
        }
        break;
      case "upper":
        state = isUpper(char) ? "acronym" : "lowerOrNumber";
        current += isUpper(char) ? char.toLowerCase() : char;
        break;
      case "acronym":
        if (isUpper(char)) {
          current += char.toLowerCase();
        } else if (isDigit(char) || (char === "s" && !legacy)) {
          // A digit (or, outside legacy mode, an "s") right after an acronym stays in it: SHA256, IPs.
          state = "lowerOrNumber";
          current += char;
        } else {
          // The acronym's last capital starts the next word: "HTTPServer" → "http", "server".
          const chars = [...current];
          const last = chars.pop()!;
          components.push(chars.join(""));
          current = last + char;
          state = "lowerOrNumber";
        }
        break;
      case "lowerOrNumber":
        if (isUpper(char)) {
          components.push(current);
          current = char.toLowerCase();
          state = "upper";
        } else {
          current += char;
        }
        break;
      default:
        return assertNever(state);
    }
  }
  if (current !== "") components.push(current);
  return ensureKeywordSafe(components.join("_"));
}

function assertNever(state: never): never {
  throw new Error(`unknown state ${String(state)}`);
}

/** PyName: the snake_case name of a property, as properties and type fields are spelled. */
export function pyName(name: string): string {
  return pyNameWith(name, LEGACY_NAMES.has(name));
}

/** PyPack: the Python package of a Pulumi package, e.g. hpc-workers → pulumi_hpc_workers. */
export function pyPackage(packageName: string, namespace = ""): string {
  return `${namespace === "" ? "pulumi" : namespace.replace(/-/g, "_")}_${packageName.replace(/-/g, "_")}`;
}

/** InitParamName: a resource's keyword argument, renamed where it would shadow resource_name or opts. */
export function initParamName(name: string): string {
  const result = pyName(name);
  return result === "resource_name" || result === "opts" ? `${result}_` : result;
}

/** unqualifiedObjectTypeName for an input shape: the class a user builds an object argument with. */
export function inputTypeClassName(typeName: string): string {
  return `${typeName}Args`;
}

/** makeSafeEnumName: the member of the generated `class E(builtins.str, Enum)` for a schema enum name. */
export function enumMemberName(name: string, enumTypeName: string): string {
  // Upstream first expands one-character names ("*" → "Asterisk", codegen.ExpandShortEnumName); not ported.
  if ([...name].length === 1)
    throw new Error(`enum member name ${JSON.stringify(name)}: one-character names are not ported`);
  // makeValidIdentifier(strings.ToTitle(...)); toUpperCase equals ToTitle on every name but a few ligatures.
  let safe = [...pyName(name).toUpperCase()]
    .map((c, i) => (!LEGAL_PART.test(c) ? "_" : i === 0 && !LEGAL_START.test(c) ? `_${c}` : c))
    .join("");
  if (safe.startsWith("_")) safe = pyName(enumTypeName).toUpperCase() + safe;
  return safe.replace(/_+/g, "_");
}
