// eslint 9 flat config: `npm run lint` (part of `npm test`), `npm run lint -- --fix` for what it can fix.
//
// The rule sets: eslint's and typescript-eslint's `recommended`, plus the type-aware rules that catch real
// bugs here (a promise nobody awaits or catches: a Pulumi program that exits before its resources are
// registered, a test that passes before its assertion runs; an Output in a plain template literal, which
// renders "Calling [toString] on an [Output<T>] is not supported"). Formatting is prettier's (`format:check`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "bin/**",
      "agent/dist/**",
      ".cache/**",
      ".stryker-tmp/**",
      "e2e/.work/**",
      "policy/generated/**",
      "examples/python/**",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      // A promise must be awaited, returned, or handed to .catch(): otherwise its rejection is lost.
      // A variable read (in a closure) before its one assignment must stay `let`: `const` there is a TDZ error.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      // `_`-prefixed names say "unused on purpose" (destructuring a field away, a callback's slot).
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          caughtErrors: "none",
        },
      ],
      // Untyped data is real here: Pulumi property bags, the policy engine's proxies, ARM and IMDS JSON, the
      // fake's wire formats. `strict` already rejects an implicit any; an explicit one is a decision, allowed
      // outside the typed core (below).
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // The typed core: the agent and the component take nothing untyped without a check.
    files: ["agent/src/**/*.ts", "components/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "error" },
  },
  {
    // Tests and their library load the built package, untyped generated gRPC stubs and programs by path.
    files: ["test/**/*.ts", "testkit/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
