"""The map pages' modules and their bundle for the offline file (geo_service/maps/bundle.py): every import names a
module and a name it exports, no cycle, one script a browser runs as it runs the modules; what the bundler does not
read is refused, naming the file. The modules keep the pages' rules: HTML built as elements only, no global set."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from geo_service.maps.bundle import MODULES, BundleError, bundle, load

ENTRIES = ("main.js", "offline.js")
NODE = shutil.which("node")


def _node(script: str, tmp_path: Path) -> str:
    if NODE is None:
        pytest.skip("node is not installed (npm ci brings the front-end libraries; node runs this check)")
    path = tmp_path / "script.js"
    path.write_text(script, "utf-8")
    done = subprocess.run([NODE, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _modules(folder: Path, **sources: str) -> Path:
    for name, source in sources.items():
        (folder / f"{name}.js").write_text(source, "utf-8")
    return folder


def test_every_module_is_reached_from_an_entry() -> None:
    reached = {module.name for entry in ENTRIES for module in load(entry)}
    assert reached == {path.name for path in MODULES.glob("*.js")}


def test_each_module_comes_after_those_it_imports() -> None:
    for entry in ENTRIES:
        order = [module.name for module in load(entry)]
        assert order[-1] == entry
        for position, module in enumerate(load(entry)):
            assert set(module.imports) <= set(order[:position]), module.name


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_bundle_is_one_classic_script_node_reads(entry: str, tmp_path: Path) -> None:
    script = bundle(entry)
    assert not re.search(r"^\s*(import|export)\b", script, re.MULTILINE)
    assert "</script" not in script.lower() and "<!--" not in script
    if NODE is None:
        pytest.skip("node is not installed")
    path = tmp_path / "bundle.js"
    path.write_text(script, "utf-8")
    checked = subprocess.run([NODE, "--check", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr


def test_modules_run_once_in_order_each_in_its_own_scope(tmp_path: Path) -> None:
    folder = _modules(
        tmp_path,
        # both modules have a private "seen": each its own
        base=(
            'const seen = "base";\nexport const log = [];\n'
            'export function note(word) { log.push(word + ":" + seen); }\n'
        ),
        middle='import {note} from "./base.js";\nconst seen = "middle";\nnote(seen);\nexport const ready = true;\n',
        entry=(
            'import {log as written, note} from "./base.js";\n'
            'import {\n  ready,\n} from "./middle.js";\n'
            'note("entry");\nconsole.log(JSON.stringify([ready, written]));\n'
        ),
    )
    out = _node(bundle("entry.js", folder), tmp_path)
    assert out.strip() == '[true,["middle:base","entry:base"]]'


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("export default function f() {}\n", "export default"),
        ("export let counter = 0;\n", "export let"),
        ('import * as all from "./other.js";\n', "import * as all"),
        ('const later = import("./other.js");\n', "import("),
        ("const text = '</script>';\n", "</script"),
    ],
)
def test_what_the_bundle_does_not_read_is_refused(tmp_path: Path, source: str, words: str) -> None:
    _modules(tmp_path, entry=source, other="export const x = 1;\n")
    with pytest.raises(BundleError, match=r"entry\.js") as caught:
        bundle("entry.js", tmp_path)
    assert words in str(caught.value)


def test_missing_modules_names_and_cycles_are_refused(tmp_path: Path) -> None:
    _modules(tmp_path, entry='import {y} from "./other.js";\n', other="export const x = 1;\n")
    with pytest.raises(BundleError, match=re.escape("entry.js: imports y from other.js")):
        bundle("entry.js", tmp_path)
    _modules(tmp_path, entry='import {x} from "./absent.js";\n')
    with pytest.raises(BundleError, match=r"absent\.js"):
        bundle("entry.js", tmp_path)
    _modules(
        tmp_path, entry='import {x} from "./other.js";\n', other='import {y} from "./entry.js";\nexport const x = 1;\n'
    )
    with pytest.raises(BundleError, match=re.escape("cycle: entry.js -> other.js -> entry.js")):
        bundle("entry.js", tmp_path)


def _code(path: Path) -> str:
    """A module's code without its comments (they may quote what the code must not do)."""
    return re.sub(r"//[^\n]*", "", path.read_text("utf-8"))


@pytest.mark.parametrize("path", sorted(MODULES.glob("*.js")), ids=lambda p: p.name)
def test_modules_build_html_as_elements_and_set_no_global(path: Path) -> None:
    code = _code(path)
    # no markup parsed from a string: the one reading of innerHTML (dom.js htmlText) serialises a text node
    assert not re.search(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write|DOMParser", code)
    assert "innerHTML" not in code or path.name == "dom.js"
    # the page's state is in its DOM: nothing set on window for anyone else to read
    assert not re.search(r"\bwindow\s*(\.\s*\w+|\[[^\]]*\])\s*=[^=]", code)
    assert not re.search(r"\bglobalThis\b", code)
