"""What a Python program uses of one generated Pulumi SDK, read with the standard ast module.

Usage: python3 sdkUsage.py PROGRAM.py SDK_PACKAGE   (e.g. pulumi_hpc_workers)
Prints JSON: the SDK names referenced, the calls made on them (positional count, keywords),
the enum members read (Owner.MEMBER) and the attributes read from resources that a call on
the SDK created (`workers = sdk.WorkerScaleSet(...)`, then `workers.scale_set_id`).
"""
import ast
import json
import sys


def main(program_path, sdk_package):
    with open(program_path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=program_path)

    module_aliases = set()  # import pulumi_x [as alias]
    imported_names = {}  # from pulumi_x import Name [as alias]: alias -> Name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == sdk_package:
                    module_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module == sdk_package:
            for alias in node.names:
                imported_names[alias.asname or alias.name] = alias.name

    def sdk_name(node):
        """The SDK name an expression refers to (sdk.Name, or a name imported from the SDK)."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in module_aliases:
            return node.attr
        if isinstance(node, ast.Name) and node.id in imported_names:
            return imported_names[node.id]
        return None

    usage = {"imported": bool(module_aliases or imported_names), "references": [], "calls": [], "members": [], "attributes": []}
    resources = {}  # variable -> SDK class it was created from
    for node in ast.walk(tree):
        name = sdk_name(node)
        if name is not None:
            usage["references"].append({"name": name, "line": node.lineno})
        if isinstance(node, ast.Call) and sdk_name(node.func) is not None:
            usage["calls"].append({
                "name": sdk_name(node.func),
                "positional": len(node.args),
                "keywords": [k.arg for k in node.keywords if k.arg is not None],
                "unpacksKeywords": any(k.arg is None for k in node.keywords),
                "line": node.lineno,
            })
        if isinstance(node, ast.Attribute) and sdk_name(node.value) is not None:
            usage["members"].append({"owner": sdk_name(node.value), "member": node.attr, "line": node.lineno})
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and sdk_name(node.value.func) is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    resources[target.id] = sdk_name(node.value.func)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in resources:
            usage["attributes"].append({"resource": resources[node.value.id], "attribute": node.attr, "line": node.lineno})
    print(json.dumps(usage))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
