"""Sphinx configuration of the pepstep documentation (``make docs``).

Three parts of the site are generated here at every build, into ``docs/_generated/``
(git-ignored), so that they never drift from the code and the results:

- ``api/*.rst``: one page per module, its docstring, a summary table of its ``__all__`` and
  every public name (a name a module only re-exports links to the module that defines it);
- ``cli.inc``: the ``--help`` of ``pepstep`` and of every subcommand, from
  :func:`pepstep.cli.build_parser`;
- ``gallery.inc``: every figure of ``results/`` with the caption ``results/README.md`` gives it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
RESULTS = ROOT / "results"

sys.path.insert(0, str(ROOT / "src"))

import pepstep  # noqa: E402

# -- project -------------------------------------------------------------------------------

project = "pepstep"
author = "the pepstep authors"
copyright = "the pepstep authors, MIT license"
release = version = pepstep.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
templates_path: list[str] = []

# Quotes and ellipses only: "--" stays two hyphens (command-line options in prose).
smartquotes_action = "qe"

html_theme = "furo"
html_title = f"pepstep {release}"
html_static_path: list[str] = []

# -- autodoc / napoleon --------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_class_signature = "separated"
autodoc_default_options = {"members": True, "show-inheritance": True}
autosummary_generate = False  # the pages are written below; autosummary only draws tables

napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# Modules documented, in the order of the data flow (DESIGN.md section 5).
API_MODULES = [
    "classes",
    "schedules",
    "pep",
    "solve",
    "clarabel_direct",
    "generation",
    "compute",
    "lower",
    "worstfunction",
    "certify",
    "certificate",
    "kernel",
    "cyclic",
    "optimize",
    "search",
    "compare",
    "practice",
    "stacks",
    "robustness",
    "spec",
    "reproduce",
    "plots",
    "errors",
]


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps incremental builds quiet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _reexports(name: str) -> dict[str, str]:
    """Names of ``pepstep.<name>`` imported from another pepstep module -> that module."""
    tree = ast.parse((ROOT / "src" / "pepstep" / f"{name}.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = f"pepstep.{node.module}"
    return found


def _directive(obj) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "autofunction"
    return "autodata"


def _api_page(name: str) -> str:
    modname = f"pepstep.{name}"
    module = importlib.import_module(modname)
    public = list(getattr(module, "__all__", []))
    reexported = _reexports(name)
    own = [n for n in public if n not in reexported]
    lines = [_title(f"``{modname}``"), f".. automodule:: {modname}", "   :no-members:", ""]
    if public:
        lines += [".. rubric:: Public names", "", ".. autosummary::", ""]
        for n in public:
            # autosummary resolves names relative to the current module (the automodule's)
            lines.append(f"   ~{reexported[n]}.{n}" if n in reexported else f"   {n}")
        lines.append("")
    if reexported.keys() & set(public):
        shown = ", ".join(f":mod:`{m}`" for m in sorted({reexported[n] for n in public if n in reexported}))
        lines += [f"Names re-exported from {shown} are documented there.", ""]
    lines += [f".. currentmodule:: {modname}", ""]
    for n in own:
        lines += [f".. {_directive(getattr(module, n))}:: {n}", ""]
    return "\n".join(lines)


def _exported(name: str) -> str:
    """Where the public name ``pepstep.NAME`` is defined: ``module.attribute``."""
    entry = pepstep._EXPORTS[name]
    module, attr = (entry, name) if isinstance(entry, str) else entry
    return f"{module}.{attr}"


def _namespace_page() -> str:
    exports = pepstep._EXPORTS
    lines = [
        _title("``pepstep`` (the public namespace)"),
        ".. automodule:: pepstep",
        "   :no-members:",
        "",
        "``from pepstep import NAME`` works for each name below; each is documented in the "
        "module that defines it.",
        "",
        ".. autosummary::",
        "",
    ]
    lines += [f"   ~{_exported(n)}" for n in sorted(exports)]
    return "\n".join(lines) + "\n"


def _generate_api() -> None:
    _write(GENERATED / "api" / "pepstep.rst", _namespace_page())
    for name in API_MODULES:
        _write(GENERATED / "api" / f"{name}.rst", _api_page(name))
    # Included by api.rst: toctree entries are relative to docs/.
    entries = "\n".join(f"   _generated/api/{n}" for n in ["pepstep", *API_MODULES])
    _write(GENERATED / "api" / "toctree.inc", f".. toctree::\n   :maxdepth: 1\n\n{entries}\n")


# -- the CLI reference ---------------------------------------------------------------------


def _literal(text: str) -> list[str]:
    return [".. code-block:: text", ""] + [f"   {line}".rstrip() for line in text.splitlines()] + [""]


def _generate_cli() -> None:
    import argparse

    from pepstep import cli

    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal width
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    lines = [_title("pepstep", "-"), ""]
    lines += _literal("$ pepstep --help\n" + parser.format_help())
    for name, subparser in sub.choices.items():
        lines += [_title(f"pepstep {name}", "-"), ""]
        lines += _literal(f"$ pepstep {name} --help\n" + subparser.format_help())
    _write(GENERATED / "cli.inc", "\n".join(lines))


# -- the gallery ---------------------------------------------------------------------------

# Figures in results/ that results/README.md does not caption (they are written by other
# tools); their captions are kept here, stating where each comes from.
OTHER_CAPTIONS = {
    "optimize_n50.png": (
        "pepstep's optimized 50-step schedule (``pepstep optimize``, written by "
        "``python benchmarks/bench_optimize.py --n50``): the normalized steps h_k on a log axis; "
        "the title gives its exact worst case in L R^2 against the BnB-PEP vector's."
    ),
    "practice_*.png": (
        "``pepstep run`` on the shipped problem named in the title: f(x_k) - f* of each "
        "schedule and of hypergradient tuning against the iteration k (log-log), with the "
        "exact PEP worst case w(h_0..N-1) L |x_0 - x*|^2 of each schedule's first N steps "
        "(triangles, colour of the schedule), which the observed gap never exceeds."
    ),
}


def _captions() -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(section, figure file, caption) from results/README.md in its order, and each
    section's claim (its first paragraph)."""
    readme = (RESULTS / "README.md").read_text(encoding="utf-8")
    found, claims, section = [], {}, None
    for line in readme.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section and section not in claims and line.strip():
            claims[section] = "" if line.startswith(("-", "|")) else line.strip()
        m = re.match(r"^- (?:Figure )?`([^`]+\.png)`: (.*)$", line)
        if m:
            found.append((section, m.group(1), m.group(2)))
    if not found:
        raise RuntimeError("results/README.md: no figure captions found (format changed?)")
    return found, claims


def _rst_text(text: str) -> str:
    """Markdown inline code -> rst inline literals; escape rst's inline markup characters."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`"):
            out.append(f"``{part[1:-1]}``")
        else:
            out.append(re.sub(r"([*_|\\])", r"\\\1", part))
    return "".join(out)


def _figure(name: str, caption: str) -> list[str]:
    return [
        f".. figure:: ../results/{name}",
        "   :width: 100%",
        f"   :alt: {name}",
        "",
        f"   ``{name}``: {caption}",
        "",
    ]


def _generate_gallery() -> None:
    captioned, claims = _captions()
    lines, current = [], None
    for section, name, caption in captioned:
        if not (RESULTS / name).exists():
            raise RuntimeError(f"results/README.md captions {name}, which results/ does not hold")
        if section != current:
            current = section
            lines += [_title(section, "-"), ""]
            if claims.get(section):
                lines += [_rst_text(claims[section]), ""]
        lines += _figure(name, _rst_text(caption))
    names = {name for _, name, _ in captioned}
    others = sorted(p.name for p in RESULTS.glob("*.png") if p.name not in names)
    if others:
        lines += [_title("Other figures in results/", "-"), ""]
        lines += [
            "These are not written by ``pepstep reproduce`` / ``pepstep figures`` and have no "
            "caption in ``results/README.md``; the captions below say what draws them.",
            "",
        ]
        for name in others:
            key = next((k for k in OTHER_CAPTIONS if Path(name).match(k)), None)
            caption = OTHER_CAPTIONS[key] if key else "(no caption in results/README.md)"
            lines += _figure(name, _rst_text(caption))
    _write(GENERATED / "gallery.inc", "\n".join(lines))


# -- hooks ---------------------------------------------------------------------------------


# Docstring markup that fails the build in modules other engineers are rewriting right now
# (their docstrings are theirs to fix): each entry rewrites one exact piece of a docstring of
# that module at build time, nothing else. Remove an entry once the docstring is fixed; an
# entry that no longer matches does nothing.
def _drop_type_docstrings(app, what, name, obj, options, lines):
    """A module constant without a ``#:`` comment would show its type's docstring (dict's)."""
    if what in ("data", "attribute") and not inspect.isclass(obj) and not callable(obj):
        doc = inspect.getdoc(type(obj))
        if doc and "\n".join(lines).strip() == doc.strip():
            lines.clear()


def _public_name(app, env, node, contnode):
    """Resolve ``pepstep.NAME`` (the lazy public namespace) to where NAME is documented.

    Also a bare ``NAME`` written in the package docstring (current module ``pepstep``).
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if target.startswith("pepstep."):
        name = target.split(".", 1)[1]
    elif node.get("py:module") == "pepstep" and "." not in target:
        name = target
    else:
        return None
    if name not in pepstep._EXPORTS:
        return None
    node["reftarget"] = f"pepstep.{_exported(name)}"
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode
    )


def setup(app):
    app.connect("autodoc-process-docstring", _drop_type_docstrings)
    app.connect("missing-reference", _public_name)


_generate_api()
_generate_cli()
_generate_gallery()
