/**
 * The pure validator field by field, at each limit and just past it: one table row per rule Azure
 * (or the worker's Linux user) enforces, so a changed bound, anchor or message fails a named row.
 * The component-level behaviour (one InputPropertiesError, nothing registered) is validation.spec.ts.
 */
import { strict as assert } from "assert";
import { MAX_DRAIN_SECONDS, SPOT_MAX_DRAIN_SECONDS } from "../components";
import { MAX_HEALTH_PORT, MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION, MIN_HEALTH_PORT } from "../components/health";
import {
  MAX_ADMIN_USERNAME_LENGTH,
  MAX_TAGS,
  MAX_TAG_NAME_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MIN_RSA_KEY_BITS,
  NOT_YET_KNOWN,
  sshKeyProblem,
  validateWorkerScaleSetArgs,
} from "../components/validate";
import { SUBNET_ID, minimalArgs } from "../testkit/componentArgs";

type Row = [title: string, overrides: Record<string, unknown>, expected: Array<[path: string, reason: RegExp]>];

const tags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, "v"]));
const image = { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" };
const MARKETPLACE = ["publisher", "offer", "sku", "version"] as const;

const ROWS: Row[] = [
  ["capacity 0", { capacity: 0 }, []],
  ["capacity 1000", { capacity: 1000 }, []],
  ["capacity 100 in a single placement group", { capacity: 100, singlePlacementGroup: true }, []],
  [
    "capacity 101 in a single placement group names the fix",
    { capacity: 101, singlePlacementGroup: true },
    [
      [
        "capacity",
        /^capacity must be an integer from 0 to 100 \(got 101\); above 100, set singlePlacementGroup to false$/,
      ],
    ],
  ],
  [
    "capacity 1001 in a single placement group, without the hint",
    { capacity: 1001, singlePlacementGroup: true },
    [["capacity", /^capacity must be an integer from 0 to 100 \(got 1001\)$/]],
  ],
  [
    "capacity 1000 in a single placement group names the fix",
    { capacity: 1000, singlePlacementGroup: true },
    [["capacity", /\(got 1000\); above 100, set singlePlacementGroup to false$/]],
  ],
  [
    "capacity -1 in a single placement group, without the hint",
    { capacity: -1, singlePlacementGroup: true },
    [["capacity", /\(got -1\)$/]],
  ],
  ["capacity 1001", { capacity: 1001 }, [["capacity", /^capacity must be an integer from 0 to 1000 \(got 1001\)$/]]],
  [
    "overprovision unknown yet with extensions on extras",
    { doNotRunExtensionsOnOverprovisionedVMs: false, overprovision: NOT_YET_KNOWN },
    [],
  ],
  ["the extension hold unknown yet", { doNotRunExtensionsOnOverprovisionedVMs: NOT_YET_KNOWN }, []],
  [
    "extensions on extras while overprovisioning",
    { doNotRunExtensionsOnOverprovisionedVMs: false },
    [
      [
        "doNotRunExtensionsOnOverprovisionedVMs",
        /only if extensions never run on the extra VMs, so with false workers would start on extras/,
      ],
    ],
  ],
  ["a subnet id in upper case", { subnetId: SUBNET_ID.toUpperCase() }, []],
  [
    "a virtual network id",
    { subnetId: SUBNET_ID.replace(/\/subnets\/.*$/, "") },
    [["subnetId", /^subnetId must be a subnet resource id/]],
  ],
  ["a subnet id with a suffix", { subnetId: `${SUBNET_ID}/ipConfigurations/x` }, [["subnetId", /got/]]],
  ["a subnet id with a prefix", { subnetId: `x${SUBNET_ID}` }, [["subnetId", /got/]]],
  ["vmSize Standard_D2s_v5", { vmSize: "Standard_D2s_v5" }, []],
  [
    "vmSize starting with a digit",
    { vmSize: "2Standard_D2" },
    [["vmSize", /^vmSize must be an Azure VM size name such as "Standard_D2s_v5" \(got "2Standard_D2"\)$/]],
  ],
  ["vmSize with a trailing word", { vmSize: "Standard_D2 v5" }, [["vmSize", /got "Standard_D2 v5"/]]],
  ["vmSize not a string", { vmSize: 2 }, [["vmSize", /got 2\)$/]]],
  [
    "a long value is shortened in the message",
    { vmSize: "x".repeat(61) },
    [["vmSize", new RegExp(`got "${"x".repeat(57)}\\.\\.\\."\\)$`)]],
  ],
  [
    "a 60-character value is shown whole",
    { vmSize: "x".repeat(60) },
    [["vmSize", new RegExp(`got "${"x".repeat(60)}"\\)$`)]],
  ],
  ["a marketplace image", { image }, []],
  ["an image id", { image: { id: "/subscriptions/s/images/i" } }, []],
  ["an image that is a string", { image: "ubuntu" }, [["image", /^image must be an object \(got "ubuntu"\)$/]]],
  ["an image that is null", { image: null }, [["image", /^image must be an object \(got null\)$/]]],
  ...MARKETPLACE.map((field): Row => [
    `an image id with ${field}`,
    { image: { id: "i", [field]: image[field] } },
    [["image", /not both/]],
  ]),
  ...MARKETPLACE.map((field): Row => {
    const partial: Record<string, string> = { ...image };
    delete partial[field];
    return [
      `a marketplace image without ${field}`,
      { image: partial },
      [["image", /^image must set publisher, offer, sku and version/]],
    ];
  }),
  ["50 tags", { tags: tags(MAX_TAGS) }, []],
  [
    "tags that are a string",
    { tags: "team=render" },
    [
      [
        "tags",
        /^tags must be an object of tag names to string values, e\.g\. \{ team: "render" \} \(got "team=render"\)$/,
      ],
    ],
  ],
  ["tags that are an array", { tags: ["team"] }, [["tags", /must be an object/]]],
  ["51 tags", { tags: tags(MAX_TAGS + 1) }, [["tags", /^tags has 51 tags; Azure allows at most 50$/]]],
  ["a tag name of 512 characters", { tags: { ["n".repeat(MAX_TAG_NAME_LENGTH)]: "v" } }, []],
  [
    "a tag name of 513 characters",
    { tags: { ["n".repeat(MAX_TAG_NAME_LENGTH + 1)]: "v" } },
    [[`tags.${"n".repeat(513)}`, /is not a valid tag name: at most 512 characters/]],
  ],
  ...["<", ">", "%", "&", "\\", "?", "/"].map((c): Row => [
    `a tag name with ${c}`,
    { tags: { [`a${c}b`]: "v" } },
    [[`tags.a${c}b`, /none of < > % & \\ \? \//]],
  ]),
  ["a tag value of 256 characters", { tags: { n: "v".repeat(MAX_TAG_VALUE_LENGTH) } }, []],
  [
    "a tag value of 257 characters",
    { tags: { n: "v".repeat(MAX_TAG_VALUE_LENGTH + 1) } },
    [["tags.n", /^tags\.n value is 257 characters; Azure allows at most 256$/]],
  ],
  ["an admin name of 64 characters", { adminUsername: "a".repeat(MAX_ADMIN_USERNAME_LENGTH) }, []],
  [
    "an admin name of 65 characters",
    { adminUsername: "a".repeat(MAX_ADMIN_USERNAME_LENGTH + 1) },
    [["adminUsername", /^adminUsername must be 1–64 letters/]],
  ],
  ["an admin name starting with a digit", { adminUsername: "1admin" }, [["adminUsername", /got "1admin"/]]],
  ["an admin name with a space", { adminUsername: "hpc admin" }, [["adminUsername", /got "hpc admin"/]]],
  [
    "a reserved admin name in capitals",
    { adminUsername: "Admin" },
    [["adminUsername", /^adminUsername "Admin" is reserved by Azure/]],
  ],
  [
    "an ssh key that is not a string",
    { sshPublicKey: 42 },
    [["sshPublicKey", /^sshPublicKey must be a string \(got 42\)$/]],
  ],
  [
    "a blank resource group",
    { resourceGroupName: "  " },
    [["resourceGroupName", /^resourceGroupName must be a non-empty string; pass the resource group's name/]],
  ],
  ["a resource group that is a number", { resourceGroupName: 7 }, [["resourceGroupName", /got 7\)$/]]],
  [
    "overprovision that is a string",
    { overprovision: "yes" },
    [["overprovision", /^overprovision must be true or false \(got "yes"\)$/]],
  ],
  [`health port ${MIN_HEALTH_PORT}`, { healthPort: MIN_HEALTH_PORT }, []],
  [`health port ${MAX_HEALTH_PORT}`, { healthPort: MAX_HEALTH_PORT }, []],
  [
    `health port ${MIN_HEALTH_PORT - 1}`,
    { healthPort: MIN_HEALTH_PORT - 1 },
    [["healthPort", /^healthPort must be an integer from 1024 to 32767/]],
  ],
  [`health port ${MAX_HEALTH_PORT + 1}`, { healthPort: MAX_HEALTH_PORT + 1 }, [["healthPort", /got 32768/]]],
  [
    "a long timeout without the health extension",
    { timeoutSeconds: MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION + 1, healthExtension: false },
    [],
  ],
  [
    "a long timeout while the health extension is unknown",
    { timeoutSeconds: MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION + 1, healthExtension: NOT_YET_KNOWN },
    [],
  ],
  [
    "repairs that are an array",
    { automaticRepairs: [] },
    [["automaticRepairs", /^automaticRepairs must be an object \{ enabled, gracePeriod, action \} \(got \)$/]],
  ],
  [
    "repairs enabled as a string",
    { automaticRepairs: { enabled: "yes" } },
    [["automaticRepairs.enabled", /^automaticRepairs\.enabled must be true or false \(got "yes"\)$/]],
  ],
  ["a repair grace of PT10M", { automaticRepairs: { gracePeriod: "PT10M" } }, []],
  ["a repair grace of PT90M", { automaticRepairs: { gracePeriod: "PT90M" } }, []],
  [
    "a repair grace of PT9M",
    { automaticRepairs: { gracePeriod: "PT9M" } },
    [["automaticRepairs.gracePeriod", /from PT10M to PT90M/]],
  ],
  [
    "a repair grace of PT91M",
    { automaticRepairs: { gracePeriod: "PT91M" } },
    [["automaticRepairs.gracePeriod", /got "PT91M"/]],
  ],
  [
    "repairs enabled unknown yet without a health source",
    { healthExtension: false, automaticRepairs: { enabled: NOT_YET_KNOWN } },
    [],
  ],
  ["drainSeconds 1", { drainSeconds: 1 }, []],
  [`drainSeconds ${MAX_DRAIN_SECONDS}`, { drainSeconds: MAX_DRAIN_SECONDS }, []],
  [
    "drainSeconds 0",
    { drainSeconds: 0 },
    [["drainSeconds", /^drainSeconds must be a whole number of seconds from 1 to 900 \(got 0\)$/]],
  ],
  [`drainSeconds ${MAX_DRAIN_SECONDS + 1}`, { drainSeconds: MAX_DRAIN_SECONDS + 1 }, [["drainSeconds", /got 901/]]],
  [
    "a Spot drain longer than the eviction notice allows",
    { priority: "Spot", drainSeconds: SPOT_MAX_DRAIN_SECONDS + 1 },
    [
      [
        "drainSeconds",
        /an eviction is announced 30 s ahead, the watcher may see an event 1 s late and keeps 3 s for SIGKILL and the acknowledgement \(got 27\)$/,
      ],
    ],
  ],
];

describe("the validator, field by field at each limit", () => {
  for (const [title, overrides, expected] of ROWS) {
    it(`${expected.length ? "rejects" : "accepts"} ${title}`, () => {
      const problems = validateWorkerScaleSetArgs({ ...minimalArgs(), ...overrides });
      assert.deepEqual(
        problems.map((p) => p.propertyPath),
        expected.map(([path]) => path),
        JSON.stringify(problems),
      );
      expected.forEach(([, reason], i) => assert.match(problems[i].reason, reason));
    });
  }
});

/** An OpenSSH key line from its fields, each length-prefixed as RFC 4253 §6.6 writes them. */
function sshLine(type: string, ...fields: Buffer[]): string {
  const blob = Buffer.concat(
    [type, ...fields].map((f) => {
      const data = typeof f === "string" ? Buffer.from(f, "latin1") : f;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      return Buffer.concat([length, data]);
    }),
  );
  return `${type} ${blob.toString("base64")} me@host`;
}
/** An RSA key whose modulus has exactly `bits` bits (an mpint: a 0 byte first when the top bit is set). */
function rsaKeyOfBits(bits: number): string {
  const bytes = Math.ceil(bits / 8);
  const modulus = Buffer.alloc(bytes, 0xff);
  modulus[0] = 0xff >> (bytes * 8 - bits);
  const mpint = modulus[0] & 0x80 ? Buffer.concat([Buffer.from([0]), modulus]) : modulus;
  return sshLine("ssh-rsa", Buffer.from([1, 0, 1]), mpint);
}

describe("sshKeyProblem: what Azure will say of a public key line", () => {
  const cases: Array<[string, string, RegExp | undefined]> = [
    [`an RSA key of ${MIN_RSA_KEY_BITS} bits`, rsaKeyOfBits(MIN_RSA_KEY_BITS), undefined],
    [
      `an RSA key of ${MIN_RSA_KEY_BITS - 1} bits`,
      rsaKeyOfBits(MIN_RSA_KEY_BITS - 1),
      /^is a 2047-bit RSA key; Azure requires at least 2048 bits/,
    ],
    ["an RSA key of 4095 bits without a leading zero byte", rsaKeyOfBits(4095), undefined],
    ["an RSA key with spaces and tabs around it", `  \t${rsaKeyOfBits(2048)}\t `, undefined],
    ["an RSA key with two spaces between its parts", rsaKeyOfBits(2048).replace(" ", "  "), undefined],
    [
      "one word",
      "ssh-ed25519",
      /^is not an OpenSSH public key \("TYPE BASE64 \[comment\]"\); paste the one-line public key, e.g\. the contents of ~\/\.ssh\/id_ed25519\.pub$/,
    ],
    ["a body that is not base64", "ssh-ed25519 AAAA!AAA", /^has a key body that is not base64/],
    ["a body with text after its padding", "ssh-ed25519 AAAA==x", /^has a key body that is not base64/],
    [
      "a body whose field runs past its end",
      sshLine("ssh-rsa").replace(
        / (\S+) /,
        (_, b) => ` ${Buffer.concat([Buffer.from(b, "base64"), Buffer.from([0, 0, 0, 9, 1])]).toString("base64")} `,
      ),
      /^is truncated/,
    ],
    [
      "a body of a different type",
      sshLine("ssh-dss", Buffer.from([1])).replace(/^ssh-dss/, "ssh-rsa"),
      /^has a body that does not match its type ssh-rsa/,
    ],
    ["an empty body", "ssh-rsa AAAAAA==", /^has a body that does not match its type ssh-rsa/],
    ["an RSA key without a modulus", sshLine("ssh-rsa", Buffer.from([1, 0, 1])), /^is truncated/],
  ];
  for (const [title, line, reason] of cases) {
    it(`${reason ? "refuses" : "accepts"} ${title}`, () => {
      const why = sshKeyProblem(line);
      if (reason) assert.match(why ?? "", reason);
      else assert.equal(why, undefined);
    });
  }
});
