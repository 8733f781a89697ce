"""Every example of README.md runs as printed, within three times the runtime it states.

The examples are README.md's indented command lines (four spaces, then ``pepstep `` or
``make ``), joined over trailing backslashes; an ``&&`` chain is run link by link. Each
``pepstep`` line ends with its runtime measured on the project's 2-core machine, a comment
``# ~2 s`` or ``# ~3 min`` (possibly after other text: ``# one JSON object; ~2 s``). The
``pepstep`` examples run in a fresh folder (with a copy of ``problems/`` and an empty
``results/`` when the line names them, as in a clone) through the virtualenv's ``pepstep``
script; the ``make`` lines are only parsed (``make test`` runs this file). Examples stated in
minutes are long by nature and run only with ``-m slow``.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: The ``pepstep`` script of the interpreter running the tests (the project's virtualenv).
PEPSTEP = Path(sys.executable).with_name("pepstep")
#: A run may take this many times its stated runtime (CI shares the machine).
SLACK = 3.0
_RUNTIME = re.compile(r"~\s*(\d+(?:\.\d+)?)\s*(s|min)\b")


@dataclass(frozen=True)
class Example:
    line: int  # 1-based line of README.md where it starts
    command: str  # the command text, continuation lines joined
    seconds: float | None  # stated runtime

    @property
    def links(self) -> list[str]:
        return [part.strip() for part in self.command.split("&&")]

    @property
    def slow(self) -> bool:
        return self.seconds is not None and self.seconds >= 60


def readme_examples(text: str) -> list[Example]:
    """The indented ``pepstep``/``make`` command lines of ``text``, with their stated runtimes."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not re.match(r"^    (pepstep|make) ", line):
            i += 1
            continue
        start, parts = i + 1, [line.strip()]
        while parts[-1].endswith("\\") and i + 1 < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            i += 1
            parts.append(lines[i].strip())
        i += 1
        joined = " ".join(parts)
        command, _, comment = joined.partition(" #")
        found = _RUNTIME.findall(comment)
        seconds = None
        if found:
            value, unit = found[-1]
            seconds = float(value) * (60 if unit == "min" else 1)
        out.append(Example(start, command.strip(), seconds))
    return out


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))
PEPSTEP_EXAMPLES = [e for e in EXAMPLES if e.command.startswith("pepstep ")]


def test_the_readme_has_examples_and_each_states_its_runtime():
    assert len(PEPSTEP_EXAMPLES) >= 10, [e.command for e in PEPSTEP_EXAMPLES]
    missing = [f"README.md:{e.line}: {e.command}" for e in PEPSTEP_EXAMPLES if e.seconds is None]
    assert not missing, "examples without a stated runtime (# ~N s):\n" + "\n".join(missing)
    assert any(e.command.startswith("make ") for e in EXAMPLES)


def test_the_parser_joins_backslashes_and_reads_runtimes():
    text = "    pepstep run --a \\\n        --b 1   # curves; ~12 s\n    make x\n  pepstep no\n"
    got = readme_examples(text)
    assert [(e.line, e.command, e.seconds) for e in got] == [
        (1, "pepstep run --a --b 1", 12.0),
        (3, "make x", None),
    ]
    assert readme_examples("    pepstep a && pepstep b  # ~2 min\n")[0].links == ["pepstep a", "pepstep b"]


def _argv(link: str, cwd: Path) -> list[str]:
    words = shlex.split(link)
    assert words[0] == "pepstep", f"only pepstep commands are chained in the README: {link!r}"
    argv = [str(PEPSTEP)]
    for word in words[1:]:
        matches = sorted(glob.glob(word, root_dir=cwd)) if any(c in word for c in "*?[") else []
        argv += matches or [word]
    return argv


def _params():
    for e in PEPSTEP_EXAMPLES:
        marks = [pytest.mark.slow] if e.slow else []
        yield pytest.param(e, id=f"L{e.line}:{e.command[:60]}", marks=marks)


@pytest.mark.parametrize("example", list(_params()))
def test_readme_example_runs_as_printed(example: Example, tmp_path: Path):
    assert example.seconds is not None, f"README.md:{example.line} states no runtime"
    if "problems/" in example.command:
        shutil.copytree(ROOT / "problems", tmp_path / "problems")
    if re.search(r"--out results\b", example.command):
        (tmp_path / "results").mkdir()
    limit = SLACK * example.seconds
    start = time.perf_counter()
    for link in example.links:
        left = limit - (time.perf_counter() - start)
        try:
            proc = subprocess.run(
                _argv(link, tmp_path),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=max(left, 1.0),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"README.md:{example.line}: {link!r} ran past {limit:.0f} s (stated ~{example.seconds:g} s)"
            )
        assert proc.returncode == 0, (
            f"README.md:{example.line}: {link!r} exited {proc.returncode}\n{proc.stderr[-2000:]}"
        )
    seconds = time.perf_counter() - start
    assert seconds <= limit, (
        f"README.md:{example.line}: {seconds:.1f} s > {SLACK:g} x stated {example.seconds:g} s"
    )
