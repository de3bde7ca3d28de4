"""The bad-input corpus: every file gives exit code 2 and a located error, and nothing else.

Each ``tests/data/bad_spaces/*.yaml`` starts with ``# expect: LINE: PATH: TEXT`` (or has a
``NAME.yaml.expect`` file with that line when a comment cannot be used): ``hadnas validate``
must exit 2 and print ``FILE:LINE:COL: PATH: ...TEXT...`` without a traceback. A ``PATH``
ending in ``*`` is a prefix. Nothing may execute (the tag exploits would touch a file) and
nothing may hang (a timeout guards every case).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hadnas.cli import main
from tests._helpers import BAD_SPACES

PWNED = Path("/tmp/hadnas-pwned")  # what the exploit files would create
LINE_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<path>\S.*?): (?P<msg>.+)$")
EXPECT_RE = re.compile(r"^(?:# )?expect: (?P<line>\d+): (?P<path>.+?): (?P<text>.+)$")


@dataclass(frozen=True)
class Case:
    file: Path
    line: int
    path: str
    text: str


def _expectation(file: Path) -> Case:
    sidecar = file.with_name(file.name + ".expect")
    head = sidecar.read_bytes() if sidecar.exists() else file.read_bytes()[:4096]
    for raw in head.decode("utf-8", errors="replace").splitlines():
        m = EXPECT_RE.match(raw.strip())
        if m:
            return Case(file, int(m["line"]), m["path"], m["text"])
    raise AssertionError(f"{file.name}: no '# expect: LINE: PATH: TEXT' header")


FILES = sorted(BAD_SPACES.glob("*.yaml"))
CASES = [_expectation(f) for f in FILES]


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30


def _check_output(case: Case, stderr: str, shown_as: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines, "no message on stderr"
    for ln in lines:  # every line is a located diagnostic
        assert LINE_RE.match(ln), f"not FILE:LINE:COL: PATH: message: {ln[:300]!r}"
    for ln in lines:
        m = LINE_RE.match(ln)
        assert m is not None
        path_ok = (
            m["path"].startswith(case.path[:-1])
            if case.path.endswith("*")
            else m["path"] == case.path
        )
        if m["file"] == shown_as and int(m["line"]) == case.line and path_ok and case.text in ln:
            return
    shown = "\n".join(ln[:300] for ln in lines)
    raise AssertionError(
        f"expected {shown_as}:{case.line}:COL: {case.path}: ...{case.text}... in\n{shown}"
    )


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", CASES, ids=[c.file.stem for c in CASES])
def test_bad_space_is_rejected_with_a_located_error(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    PWNED.unlink(missing_ok=True)
    code = main(["validate", str(case.file)])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "OK" not in out
    _check_output(case, err, str(case.file))
    assert not PWNED.exists(), "a YAML tag executed code"


SUBPROCESS_CASES = [
    "tag_python_apply_os_system",
    "bomb_billion_laughs",
    "name_injection",
    "cycle_two_nodes",
    "shape_mismatch_join",
    "non_utf8",
]


@pytest.mark.timeout(120)
def test_bad_spaces_through_the_real_command() -> None:
    """A handful in one subprocess: the real interpreter start, exit code, stderr per file."""
    cases = [c for c in CASES if c.file.stem in SUBPROCESS_CASES]
    assert len(cases) == len(SUBPROCESS_CASES)
    PWNED.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "hadnas.cli", "validate", *(c.file.name for c in cases)],
        cwd=BAD_SPACES,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    for case in cases:
        mine = [ln for ln in proc.stderr.splitlines() if ln.startswith(case.file.name + ":")]
        _check_output(case, "\n".join(mine), case.file.name)
    assert "Traceback" not in proc.stderr
    assert not PWNED.exists()


def test_all_files_at_once_report_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", *(str(c.file) for c in CASES[:5])])
    _, err = capsys.readouterr()
    assert code == 2
    for case in CASES[:5]:
        assert f"{case.file}:" in err
