#!/usr/bin/env python3
"""Checks that no two sibling modules of a library import each other, directly or through others.

For each crate given (default: nomad-proto and nomad-blocking), reads every `src/**/*.rs` file,
leaves out comments, string literals and `#[cfg(test)]` / `#[cfg(doc)]` items, and collects the
paths each module names: its `use crate::…`, `use super::…`, `use self::…` declarations (a
parent's `use child::…` too) and the inline `crate::…`, `$crate::…`, `super::…` and `self::…`
paths. Each path is followed through the re-exports it passes (`crate::Config` is
`crate::config::Config`) to the module that defines the item.

An import of `a::x` from `b::y` is an edge between the siblings `a` and `b` (the children of
their common parent, here the crate root). A parent naming its own children (re-exports, the
`operations!` list) is not an edge, nor a child using an item its parent defines; those are
listed apart. The check fails when the edges among the children of any module form a cycle.

Usage: `python3 .ci/import_cycles.py [--graph] [CRATE_DIR ...]`; `--graph` prints every
module's imports.
"""
import os
import re
import sys

KEYWORDS = {"crate", "$crate", "super", "self"}


def strip_code(text):
    """The text with comments removed and string and char literals emptied (`""`, `' '`),
    so that only code is left; line breaks are kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif re.match(r'b?r#*"', text[i:i + 300]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text[i:end].count("\n"))
            i = end
        elif c == '"' or (c == "b" and text.startswith('b"', i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text[i:j].count("\n"))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += m.end()
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_item(code, i):
    """The index just past the item starting at `i` (through its matching `}` or its `;`)."""
    depth = 0
    while i < len(code):
        c = code[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return i


def drop_cfg_items(code):
    """`code` without the items under `#[cfg(test)]` or `#[cfg(doc)]`."""
    out, i = [], 0
    pattern = re.compile(r"#\[cfg\((test|doc)\)\]")
    while True:
        m = pattern.search(code, i)
        if not m:
            out.append(code[i:])
            return "".join(out)
        out.append(code[i:m.start()])
        i = skip_item(code, m.end())


def expand_use(tree):
    """`a::{b, c::{d, e as f}, self}` → [([a, b], b), ([a, c, d], d), ([a, c, e], f), ([a], a)]:
    each path with the name it takes."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", tree))
    results = []

    def walk(prefix, s):
        parts, depth, start = [], 0, 0
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:k])
                start = k + 1
        parts.append(s[start:])
        for part in parts:
            if not part:
                continue
            if "{" in part:
                head, _, rest = part.partition("{")
                walk(prefix + [seg for seg in head.split("::") if seg], rest[: rest.rindex("}")])
                continue
            part, _, alias = part.partition("@")
            segs = prefix + [seg for seg in part.split("::") if seg]
            if segs and segs[-1] in ("self", "*"):
                segs = segs[:-1]
            if segs:
                results.append((segs, alias or segs[-1]))

    walk([], tree)
    return results


USE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
INLINE = re.compile(r"(?<![\w:$])(\$crate|crate|super|self)((?:::[A-Za-z_]\w*)+)")


class Crate:
    def __init__(self, root):
        self.root = root
        self.src = os.path.join(root, "src")
        self.modules = {}  # tuple path -> code
        for dirpath, _, files in os.walk(self.src):
            for name in files:
                if not name.endswith(".rs"):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.src)[:-3].split(os.sep)
                if rel[-1] in ("lib", "mod"):
                    rel = rel[:-1]
                with open(full, encoding="utf-8") as f:
                    self.add(tuple(rel), drop_cfg_items(strip_code(f.read())))
        self.uses = {m: self.collect_uses(code) for m, code in self.modules.items()}

    def add(self, module, code):
        """Adds the module and, as modules of their own, the inline `mod name { … }` in it."""
        rest, i = [], 0
        for m in re.finditer(r"\bmod\s+([A-Za-z_]\w*)\s*\{", code):
            if m.start() < i:
                continue
            end = skip_item(code, m.start())
            rest.append(code[i:m.start()])
            self.add(module + (m.group(1),), code[m.end():end - 1])
            i = end
        rest.append(code[i:])
        self.modules[module] = "".join(rest)

    @staticmethod
    def collect_uses(code):
        """name → path for every `use` in the module (what `super::name` can reach)."""
        table = {}
        for m in USE.finditer(code):
            for path, alias in expand_use(m.group(1)):
                table.setdefault(alias, path)
        return table

    def children(self, module):
        return {m[-1] for m in self.modules if len(m) == len(module) + 1 and m[: len(module)] == module}

    def resolve(self, module, path, depth=0):
        """The module that defines what `path`, named in `module`, points at (None: outside the
        crate)."""
        if depth > 20 or not path:
            return None
        head = path[0]
        if head in ("crate", "$crate"):
            current, rest = (), path[1:]
        elif head in ("super", "self"):
            current, rest = module, path
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super":
                    current = current[:-1]
                rest = rest[1:]
        elif head in self.children(module):
            current, rest = module, path
        else:
            return None
        for k, seg in enumerate(rest):
            if seg in self.children(current):
                current = current + (seg,)
                continue
            target = self.uses.get(current, {}).get(seg)
            if target and target != list(path):
                # A re-export: what it names, or nothing for another crate's item.
                return self.resolve(current, target + list(rest[k + 1:]), depth + 1)
            return current
        return current

    def references(self, module):
        """Every (path, module it resolves to) the module's code names."""
        code = self.modules[module]
        refs = []
        for m in USE.finditer(code):
            for path, _ in expand_use(m.group(1)):
                refs.append(path)
        rest = USE.sub("", code)
        for m in INLINE.finditer(rest):
            refs.append([m.group(1)] + m.group(2).split("::")[1:])
        out = []
        for path in refs:
            target = self.resolve(module, path)
            if target is not None and target != module:
                out.append(("::".join(path), target))
        return out


def name(module):
    return "::".join(module) if module else "crate"


def cycles(nodes, edges):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return result


def check(root, show):
    crate = Crate(root)
    sibling = {}  # parent -> {a: {b: [why]}}
    upward = []  # (child, ancestor, path)
    for module in sorted(crate.modules):
        for path, target in crate.references(module):
            if target[: len(module)] == module:
                continue  # a parent naming its own descendant
            if module[: len(target)] == target:
                upward.append((module, target, path))
                continue
            common = 0
            while module[common] == target[common]:
                common += 1
            parent = module[:common]
            a, b = module[common], target[common]
            sibling.setdefault(parent, {}).setdefault(a, {}).setdefault(b, set()).add(path)
    label = os.path.basename(os.path.abspath(root))
    failed = False
    for parent in sorted(sibling):
        nodes = crate.children(parent)
        edges = {a: set(bs) for a, bs in sibling[parent].items()}
        if show:
            print(f"{label} {name(parent)}:")
            for a in sorted(nodes):
                imports = sorted(edges.get(a, ()))
                print(f"  {a} → {', '.join(imports) if imports else '(none)'}")
        for component in cycles(nodes, edges):
            failed = True
            print(f"{label}: import cycle among the children of {name(parent)}: {', '.join(component)}")
            for a in component:
                for b in sorted(edges.get(a, ())):
                    if b in component:
                        print(f"  {a} → {b}: {', '.join(sorted(sibling[parent][a][b]))}")
    if show and upward:
        print(f"{label}, items of a parent used by its child:")
        for child, ancestor, path in sorted(set(upward)):
            print(f"  {name(child)} → {name(ancestor)}: {path}")
    return failed


def main(args):
    show = "--graph" in args
    roots = [a for a in args if a != "--graph"] or ["nomad-proto", "nomad-blocking"]
    failed = False
    for root in roots:
        failed |= check(root, show)
    if failed:
        sys.exit(1)
    print("no import cycles in " + ", ".join(roots))


if __name__ == "__main__":
    main(sys.argv[1:])
