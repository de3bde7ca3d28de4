"""Check exported models in a process where hadnas cannot be imported.

Run as ``python -I -S _standalone_check.py MANIFEST.json``: ``-S`` skips site processing, so the
editable install's ``.pth`` hook never runs; the manifest names the site-packages folders to put
on ``sys.path`` (for torch and safetensors only). An audit hook then denies process creation,
sockets, unpickling and file writes while the exported code is imported and run. Results are
printed as one JSON object: ``{case id: null (ok) or "error message"}``.

This file is standalone on purpose (it must not import hadnas or the tests package).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from pathlib import Path

DENIED_PREFIXES = (
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "subprocess.",
    "socket.",
    "pickle.find_class",
    "ctypes.",
    "os.remove",
    "os.rename",
    "shutil.",
)


def _audit(event: str, args: tuple) -> None:
    if event.startswith(DENIED_PREFIXES):
        raise RuntimeError(f"denied by the audit hook: {event}")
    if event == "open" and len(args) > 1 and isinstance(args[1], str):
        if any(c in args[1] for c in "wax+"):
            raise RuntimeError(f"denied by the audit hook: open({args[0]!r}, {args[1]!r})")


def _import(path: Path, index: int):  # noqa: ANN202 - the exported module
    name = f"exported_{index}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def check_model(entry: dict, index: int) -> None:
    import torch
    from safetensors.torch import load_file

    folder = Path(entry["dir"])
    module = _import(folder / "model.py", index)
    expected = load_file(str(folder / "check.safetensors"))
    weights = load_file(str(folder / "model.safetensors"))
    for dtype, tol in ((torch.float64, 0.0), (torch.float32, 1e-6)):
        tag = "f64" if dtype == torch.float64 else "f32"
        model = module.Model()
        model.load_state_dict(weights, strict=True)
        model = model.to(dtype).eval()
        # fresh (aligned) copies: MKL results can depend on the alignment of mmap-ed buffers
        inputs = [expected[f"{tag}.in{i}"].clone() for i in range(entry["n_inputs"])]
        with torch.no_grad():
            got = model(*inputs)
        want = expected[f"{tag}.out"]
        if got.dtype != want.dtype or got.shape != want.shape:
            raise AssertionError(
                f"{tag}: got {got.dtype} {tuple(got.shape)}, want {want.dtype} {tuple(want.shape)}"
            )
        diff = (got - want).abs().max().item() if got.numel() else 0.0
        if not diff <= tol:  # also catches NaN
            raise AssertionError(f"{tag}: max |difference| {diff} > {tol}")


def check_pickle(entry: dict) -> None:
    import torch
    from safetensors.torch import load_file

    weights = Path(entry["weights"])
    marker = Path(entry["marker"])
    for loader in (
        lambda: load_file(str(weights)),
        lambda: torch.load(weights, weights_only=True),
    ):
        try:
            loader()
        except Exception:  # noqa: BLE001 - any refusal is fine, as long as nothing ran
            pass
        else:
            raise AssertionError("a pickle payload loaded as weights")
        if marker.exists():
            raise AssertionError("the payload ran: the marker file exists")


def main() -> int:
    sys.dont_write_bytecode = True  # no __pycache__ writes: the audit hook denies them
    manifest = json.loads(Path(sys.argv[1]).read_text())
    sys.path[:] = [p for p in sys.path if "site-packages" not in p] + manifest["site"]
    results: dict[str, str | None] = {}
    if importlib.util.find_spec("hadnas") is not None:
        results["<hadnas importable>"] = "hadnas can be imported in the checking process"
    # imported before the audit hook goes in: the hook audits the exported code, not torch
    import safetensors.torch  # noqa: F401
    import torch  # noqa: F401

    sys.addaudithook(_audit)
    for index, entry in enumerate(manifest["entries"]):
        try:
            if entry["kind"] == "model":
                check_model(entry, index)
            else:
                check_pickle(entry)
            results[entry["id"]] = None
        except BaseException as exc:  # noqa: BLE001 - report every failure, keep checking
            lines = traceback.format_exception_only(type(exc), exc)
            results[entry["id"]] = "".join(lines).strip()[-2000:]
    leaked = sorted(m for m in sys.modules if m == "hadnas" or m.startswith("hadnas."))
    if leaked:
        results["<hadnas imported>"] = f"modules {leaked} were imported"
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
