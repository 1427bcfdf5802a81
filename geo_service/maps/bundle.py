"""The map pages' ES modules (``geo_service/static/carte/*.js``) as one classic script, for the offline file.

A page served by the service loads ``main.js`` with ``<script type="module">`` and the browser fetches what it
imports. A file opened from disk cannot: browsers refuse module scripts from ``file://``. So the offline file
carries the same modules, put together here in dependency order, each in its own function scope (two modules
may use the same private name), its imports read from the modules before it and its exports returned.

No JavaScript tooling at run time: the modules keep to a small subset that this reads without a parser, and
anything outside it is refused with the file and line, never passed on half-understood:

* ``import {a, b as c} from "./name.js";`` (one or several lines): named imports of a sibling module only;
* ``export function``, ``export async function``, ``export const``, ``export class`` followed by a name; an
  exported ``const`` is read once, when imported (hold state in an object, not in a rebound variable);
* no other ``import`` or ``export`` (no default export, no ``export let``, no ``import()``), no import cycle.

The script is meant to go inside ``<script>``: a module containing ``</script`` or ``<!--`` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MODULES = Path(__file__).resolve().parent.parent / "static" / "carte"

NAME = r"[A-Za-z_$][\w$]*"
IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([\w-]+\.js)";[ \t]*$', re.MULTILINE)
EXPORT = re.compile(rf"^export\s+((?:async\s+)?function\s*\*?\s*({NAME})|(?:const|class)\s+({NAME}))", re.MULTILINE)
LEFT_OVER = re.compile(r"^\s*(?:import|export)\b|\bimport\s*\(", re.MULTILINE)
SPECIFIER = re.compile(rf"^({NAME})(?:\s+as\s+({NAME}))?$")
UNSAFE_IN_SCRIPT = re.compile(r"</script|<!--", re.IGNORECASE)


class BundleError(ValueError):
    """A module outside the subset the bundle reads, an import of a missing module or name, or a cycle."""


@dataclass(frozen=True)
class Module:
    name: str  # file name, e.g. "map.js"
    imports: dict[str, list[tuple[str, str]]]  # module -> [(exported name, local name)], in source order
    exports: tuple[str, ...]
    body: str  # the source without its import lines and export keywords


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def read_module(name: str, source: str) -> Module:
    """``source`` of module ``name`` split into its imports, exports and body."""
    unsafe = UNSAFE_IN_SCRIPT.search(source)
    if unsafe:
        raise BundleError(f"{name}:{_line(source, unsafe.start())}: {unsafe.group()!r} would end or confuse <script>")
    imports: dict[str, list[tuple[str, str]]] = {}
    for match in IMPORT.finditer(source):
        names = []
        for specifier in match.group(1).split(","):
            specifier = " ".join(specifier.split())
            if not specifier:
                continue
            found = SPECIFIER.match(specifier)
            if found is None:
                raise BundleError(f"{name}:{_line(source, match.start())}: cannot read import {specifier!r}")
            names.append((found.group(1), found.group(2) or found.group(1)))
        imports.setdefault(match.group(2), []).extend(names)
    body = IMPORT.sub("", source)
    exports = tuple(found.group(2) or found.group(3) for found in EXPORT.finditer(body))
    body = EXPORT.sub(r"\1", body)
    left = LEFT_OVER.search(body)
    if left:
        line = body[body.rfind("\n", 0, left.start()) + 1 :].split("\n", 1)[0].strip()
        raise BundleError(f"{name}: import or export outside what the bundle reads: {line!r}")
    return Module(name, imports, exports, body)


def _variable(name: str) -> str:
    return "module_" + re.sub(r"\W", "_", name.removesuffix(".js"))


def load(entry: str, folder: Path = MODULES) -> list[Module]:
    """``entry`` and every module it imports, each after the modules it imports (depth first, in import order)."""
    modules: dict[str, Module] = {}
    ordered: list[Module] = []
    visiting: list[str] = []

    def visit(name: str, importer: str) -> None:
        if name in modules:
            return
        if name in visiting:
            raise BundleError(f"import cycle: {' -> '.join([*visiting[visiting.index(name) :], name])}")
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{importer}: imports {name}, which is not in {folder}")
        visiting.append(name)
        module = read_module(name, path.read_text("utf-8"))
        for dependency, names in module.imports.items():
            visit(dependency, name)
            missing = [exported for exported, _ in names if exported not in modules[dependency].exports]
            if missing:
                raise BundleError(f"{name}: imports {', '.join(missing)} from {dependency}, which does not export it")
        visiting.pop()
        modules[name] = module
        ordered.append(module)

    visit(entry, "(entry)")
    return ordered


def bundle(entry: str, folder: Path = MODULES) -> str:
    """One classic script running ``entry`` as the browser would run it as a module: strict, each module once,
    after those it imports."""
    parts = ['(function () {\n"use strict";']
    for module in load(entry, folder):
        bindings = "".join(
            f"const {{{', '.join(f'{exported}: {local}' for exported, local in names)}}} = {_variable(dependency)};\n"
            for dependency, names in module.imports.items()
        )
        exported = f"return {{{', '.join(module.exports)}}};\n" if module.exports else ""
        scope = f"(function () {{\n{bindings}{module.body}\n{exported}}})()"
        parts.append(f"// -- {module.name}\nconst {_variable(module.name)} = {scope};")
    parts.append("})();")
    return "\n".join(parts)
