"""The command line: exit codes (0 ok, 2 user error), located messages, never a traceback.

Most checks call :func:`hadnas.cli.main` in-process (fast); a few run the real console script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import hadnas
from hadnas.cli import main
from tests._helpers import MINIMAL, TINY

Write = Callable[[str, str], Path]
SPACE_COMMANDS = ["validate", "sample", "show", "draw"]


@pytest.mark.parametrize("command", SPACE_COMMANDS)
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"hadnas {command}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "validate" in capsys.readouterr().out


def test_unknown_command_and_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["nosuch"], ["sample", "x.yaml", "--seed", "one"], ["validate"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_validate_ok(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    space, arch = write("space.yaml", TINY), write("arch.yaml", MINIMAL)
    assert main(["validate", str(space), str(arch)]) == 0
    out = capsys.readouterr().out
    assert f"{space}: OK (space with" in out and f"{arch}: OK (architecture)" in out
    assert main(["-q", "validate", str(space)]) == 0
    assert capsys.readouterr().out == ""


def test_validate_reports_every_file_and_exits_2(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write("good.yaml", MINIMAL)
    bad = write("bad.yaml", MINIMAL.replace("op: linear", "op: linaer"))
    assert main(["validate", str(bad), str(good)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"{bad}:7:11: nodes.a.op: unknown op 'linaer'; did you mean 'linear'")
    assert f"{good}: OK" in out


def test_validate_prints_warnings_but_passes(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MINIMAL.replace(
        "  a: {op: linear, out: 4}", "  dead: {op: linear}\n  a: {op: linear, in: x, out: 4}"
    )
    path = write("w.yaml", text)
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{path}:7:3: nodes.dead: warning: node 'dead' does not reach the output 'a'" in err


@pytest.mark.parametrize("command", SPACE_COMMANDS)
def test_missing_file_exits_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yaml"
    assert main([command, str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"{missing}:0:0: <root>: no such file"


def test_sample_prints_a_loadable_architecture(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("space.yaml", TINY)
    assert main(["sample", str(path), "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert yaml.safe_load(text)["sampled"]["body.repeat"] >= 1
    arch = hadnas.load_space("a.yaml", text=text).architecture()
    assert arch == hadnas.load_space(path).sample(3)
    out = tmp_path / "arch.yaml"
    assert main(["sample", str(path), "--seed", "3", "-o", str(out)]) == 0
    assert out.read_text() == text and capsys.readouterr().out == ""


def test_show_table(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("space.yaml", TINY)
    assert main(["show", str(path), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "tiny (sample seed=2)" in out
    totals = hadnas.load_space(path).sample(2).graph.totals()
    assert f"{totals['params']:,}" in out and f"{totals['flops']:,}" in out
    assert "stem" in out and "head" in out and "(B, 3)" in out


def test_show_and_draw_an_architecture(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("arch.yaml", MINIMAL)
    assert main(["show", str(path)]) == 0
    assert "sample seed" not in capsys.readouterr().out
    png = tmp_path / "sub" / "g.png"
    assert main(["draw", str(path), "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_user_errors_of_every_command_exit_2(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write("bad.yaml", MINIMAL.replace("out: 4", "out: -4"))
    for argv in (
        ["sample", str(bad)],
        ["show", str(bad)],
        ["draw", str(bad), "-o", str(tmp_path / "g.png")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{bad}:7:24: nodes.a.out: linear.out -4 is below the minimum" in err
        assert "Traceback" not in err


def test_unwritable_output_is_a_user_error(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("arch.yaml", MINIMAL)
    blocker = write("file", "")
    assert main(["draw", str(path), "-o", str(blocker / "g.png")]) == 2
    assert main(["sample", str(path), "-o", str(blocker / "a.yaml")]) == 2
    err = capsys.readouterr().err
    assert "hadnas draw: error:" in err and "hadnas sample: error:" in err
    assert "Traceback" not in err


# -- the real console script ----------------------------------------------------------------------
def _hadnas() -> list[str]:
    exe = shutil.which("hadnas", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "hadnas.cli"]


@pytest.mark.timeout(120)
def test_console_script(write: Write) -> None:
    good, bad = write("good.yaml", MINIMAL), write("bad.yaml", "hadnas: 1\nname: [\n")
    proc = subprocess.run(
        [*_hadnas(), "validate", str(good), str(bad)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert f"{good}: OK (architecture)" in proc.stdout
    assert proc.stderr.startswith(f"{bad}:3:1: <root>: YAML syntax error")
    assert "Traceback" not in proc.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"hadnas {hadnas.__version__}"
