"""The layering rules of shared/src, checked on the code (run by tests/run).

1. No import cycle between the top-level modules of shared/src: every `crate::<module>` a
   module's files name is an arrow, and the arrows must form no circle.
2. No storage type is named outside shared/src/connectors/: no slug (`"s3"`, `"localfiles"`,
   ...) and no URI scheme (`"gs"`, `"dbx"`, ...) as a string literal anywhere else. The slugs
   and schemes are read from the connectors' own `fn slug` and `fn uri_schemes`.

Exits 1 with what is wrong, 0 with a one-line summary.
"""

import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "shared" / "src"


def top_level_modules():
    modules = {}
    for entry in SRC.iterdir():
        if entry.name == "lib.rs":
            continue
        if entry.is_dir():
            modules[entry.name] = sorted(entry.rglob("*.rs"))
        elif entry.suffix == ".rs":
            modules[entry.stem] = [entry]
    return modules


def code_of(path):
    """The file without comments and without its `#[cfg(test)]` module (tests may name
    anything)."""
    text = path.read_text()
    text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    cut = re.search(r"^#\[cfg\((all\()?test", text, flags=re.MULTILINE)
    return text[: cut.start()] if cut else text


def arrows(modules):
    graph = {name: set() for name in modules}
    for name, files in modules.items():
        for path in files:
            for target in re.findall(r"crate::(\w+)", code_of(path)):
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph):
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def type_names():
    names = set()
    for mod_rs in (SRC / "connectors").glob("*/mod.rs"):
        text = mod_rs.read_text()
        for function in ("slug", "uri_schemes"):
            for body in re.findall(rf"fn {function}\(&self\)[^{{]*{{(.*?)\n    }}", text, re.S):
                names.update(re.findall(r'"([a-z0-9_-]+)"', body))
    return names


def named_outside_connectors(names):
    found = []
    for path in SRC.rglob("*.rs"):
        if (SRC / "connectors") in path.parents:
            continue
        for literal in re.findall(r'"([a-z0-9_-]+)"', code_of(path)):
            if literal in names:
                found.append(f"{path.relative_to(SRC)}: \"{literal}\"")
    return found


def main():
    modules = top_level_modules()
    graph = arrows(modules)
    problems = [f"import cycle between {' and '.join(c)}" for c in cycles(graph)]
    names = type_names()
    if len(names) < 9:
        problems.append(f"found only {sorted(names)} as type slugs and schemes")
    problems += [f"a storage type named outside connectors/: {n}" for n in named_outside_connectors(names)]
    if problems:
        print("\n".join(problems))
        return 1
    edges = sum(len(t) for t in graph.values())
    print(
        f"layers: {len(modules)} top-level modules, {edges} arrows, no cycle; "
        f"{len(names)} type slugs and URI schemes, none named outside connectors/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
