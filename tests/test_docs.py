"""Every code block of README.md and docs/*.md runs, so the docs cannot drift from the code.

A page is one session, run in a fresh Python process inside a scratch folder that holds copies
of ``search_spaces/`` and ``examples/`` and a link to ``.venv``:

* ```` ```python ```` blocks run in document order in one namespace (later blocks may use names
  from earlier ones);
* in ```` ```bash ````/```` ```sh ```` blocks, lines starting with ``hadnas `` or
  ``.venv/bin/hadnas `` run (and, in ```` ```console ```` blocks, lines starting with
  ``$ hadnas``), interleaved with the Python blocks in document order; other lines (``make``,
  ``pip``, ``tensorboard``...) do not. Budgets are shrunk so a page runs in seconds:
  ``--trials N`` → at most 2, ``--seeds N`` → at most 2, ``--samples N`` → at most 4,
  ``--epochs N`` and ``--retrain N`` → 1.

HTML comments just before a fence (invisible when rendered) adjust a block:

* ``<!-- docs-test: file NAME -->``: write the block to ``NAME`` instead of running it (a YAML
  space or a module that later blocks use);
* ``<!-- docs-test: setup CODE -->``: hidden Python run first, giving a fragment its context;
* ``<!-- docs-test: slow -->``: run only by the slow test of the page (``-m slow``);
  a page whose fast run still trains (``hadnas search``/``train``...) is a slow test as a
  whole;
* ``<!-- docs-test: skip REASON -->``: never run. Only for blocks that cannot run offline or
  quickly (a cluster, a database server, a 10-minute build); the reason is required.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [p for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] if p.exists()]

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*docs-test:\s*(\w+)\s*(.*?)-->", re.S)
SHELL_LANGS = ("bash", "sh", "shell", "console")
COMMAND = re.compile(r"^(\$ )?(\.venv/bin/)?hadnas\s")
SHRINK = (("--trials", 2), ("--seeds", 2), ("--samples", 4), ("--epochs", 1), ("--retrain", 1))


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` with the ``docs-test`` markers written just above them."""
    text = page.read_text(encoding="utf-8")
    rel = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name
    out, last_end = [], 0
    for m in FENCE.finditer(text):
        before = text[last_end : m.start()]
        # markers count only in the stretch of comments/blank lines right above the fence
        tail = re.search(r"((?:[ \t]*<!--.*?-->[ \t]*\n|[ \t]*\n)*)\Z", before, re.S)
        markers = {k: v.strip() for k, v in MARKER.findall(tail.group(1) if tail else "")}
        line = text.count("\n", 0, m.start()) + 2  # first line of the block's body
        out.append(Block(rel, line, m.group(1).lower(), m.group(2), markers))
        last_end = m.end()
    return out


def shrink(command: str) -> str:
    """Cut budgets in a ``hadnas`` command line so a doc page runs in seconds."""
    for flag, cap in SHRINK:
        pattern = re.compile(rf"({re.escape(flag)}[ =])(\d+)")
        command = pattern.sub(
            lambda m, cap=cap: f"{m.group(1)}{min(int(m.group(2)), cap)}", command
        )
    return command


def steps(page: Path, *, slow: bool) -> list[dict[str, object]]:
    """What the session runs, in order: python code, shell commands, files to write."""
    out: list[dict[str, object]] = []
    for b in blocks(page):
        if "skip" in b.markers or ("slow" in b.markers and not slow):
            continue
        if "setup" in b.markers:
            out.append({"kind": "python", "code": b.markers["setup"], "where": b.where, "line": 1})
        if "file" in b.markers:
            out.append({"kind": "file", "name": b.markers["file"], "text": b.text})
        elif b.lang in ("python", "py"):
            out.append({"kind": "python", "code": b.text, "where": b.where, "line": b.line})
        elif b.lang in SHELL_LANGS:
            for k, raw in enumerate(b.text.splitlines()):
                if COMMAND.match(raw.strip()) and (b.lang == "console") == raw.startswith("$ "):
                    cmd = shrink(raw.strip().removeprefix("$ "))
                    out.append({"kind": "shell", "cmd": cmd, "where": f"{b.page}:{b.line + k}"})
    return out


RUNNER = r"""
import json, os, subprocess, sys, traceback, types
steps = json.load(open(sys.argv[1]))
sys.path.insert(0, os.getcwd())
session = types.ModuleType("__docs__")  # a real module: dataclasses, pickle and inspect need one
sys.modules["__docs__"] = session
ns = session.__dict__
for step in steps:
    if step["kind"] == "file":
        os.makedirs(os.path.dirname(step["name"]) or ".", exist_ok=True)
        open(step["name"], "w").write(step["text"])
        continue
    print(f"--- {step['where']}: {step.get('cmd', 'python block')}", flush=True)
    if step["kind"] == "shell":
        rc = subprocess.call(["bash", "-c", step["cmd"]])
        if rc != 0:
            print(f"FAILED at {step['where']}: exit {rc}: {step['cmd']}", flush=True)
            sys.exit(1)
        continue
    code = "\n" * (step["line"] - 1) + step["code"]
    try:
        exec(compile(code, step["where"].rsplit(":", 1)[0], "exec"), ns)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED at {step['where']}", flush=True)
        sys.exit(1)
print("ALL OK", flush=True)
"""


def run_page(page: Path, tmp_path: Path, *, slow: bool) -> None:
    todo = steps(page, slow=slow)
    if not todo:
        pytest.skip("no runnable block")
    work = tmp_path / "work"
    work.mkdir()
    for folder in ("search_spaces", "examples"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, work / folder)
    if (ROOT / ".venv").exists():
        (work / ".venv").symlink_to(ROOT / ".venv")
    plan = tmp_path / "steps.json"
    plan.write_text(json.dumps(todo), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(work), env.get("PYTHONPATH", "")])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MPLBACKEND"] = "Agg"
    env["HADNAS_LATENCY_DIR"] = str(tmp_path / "latency")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(plan)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900 if slow else 280,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "ALL OK" in proc.stdout, log[-6000:]


#: pages whose owners still have to add markers for fragments; remove an entry once it passes
PENDING = {}

#: a page that trains (a search, a retraining, an export with training) takes more than 30 s
HEAVY = re.compile(r"hadnas (search|train|bench build)\b|hadnas\.search\(|--retrain")


def _param(page: Path) -> object:
    runnable = [s for s in steps(page, slow=False) if s["kind"] != "file"]
    heavy = any(HEAVY.search(str(s.get("cmd") or s.get("code"))) for s in runnable)
    rel = str(page.relative_to(ROOT))
    return pytest.param(page, id=rel, marks=[pytest.mark.slow] if heavy else [])


SLOW_PAGES = [p for p in PAGES if any("slow" in b.markers for b in blocks(p))]


@pytest.mark.parametrize("page", [_param(p) for p in PAGES])
def test_page_runs(page: Path, tmp_path: Path) -> None:
    rel = str(page.relative_to(ROOT))
    try:
        run_page(page, tmp_path, slow=False)
    except AssertionError:
        if rel in PENDING:
            pytest.xfail(PENDING[rel])
        raise


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=[str(p.relative_to(ROOT)) for p in SLOW_PAGES])
def test_page_runs_with_slow_blocks(page: Path, tmp_path: Path) -> None:
    run_page(page, tmp_path, slow=True)


def test_skips_are_few_and_explained() -> None:
    skipped = [b for p in PAGES for b in blocks(p) if "skip" in b.markers]
    for b in skipped:
        assert b.markers["skip"], f"{b.where}: `docs-test: skip` needs a reason"
    runnable = [b for p in PAGES for b in blocks(p) if b.lang in ("python", *SHELL_LANGS)]
    assert len(skipped) <= max(3, len(runnable) // 5), [b.where for b in skipped]


def test_harness_reads_markers_and_shrinks_budgets(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n<!-- docs-test: file s.yaml -->\n```yaml\na: 1\n```\n\n"
        "<!-- docs-test: skip needs a cluster -->\n```bash\nhadnas search x --address h:1\n```\n"
        "```console\n$ hadnas validate s.yaml\ns.yaml: OK\n```\n"
        "```bash\nmake demo\n.venv/bin/hadnas search s.yaml --trials 40 --seeds=30\n```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [b.markers for b in found] == [{"file": "s.yaml"}, {"skip": "needs a cluster"}, {}, {}]
    todo = steps(page, slow=False)
    assert [s["kind"] for s in todo] == ["file", "shell", "shell"]
    assert todo[1]["cmd"] == "hadnas validate s.yaml"
    assert todo[2]["cmd"] == ".venv/bin/hadnas search s.yaml --trials 2 --seeds=2"
