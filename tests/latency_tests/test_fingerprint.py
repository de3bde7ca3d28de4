from __future__ import annotations

import torch

from hadnas.latency import Fingerprint, fingerprint
from hadnas.latency._fingerprint import cpu_model
from hadnas.version import __version__


def test_fields() -> None:
    fp = fingerprint(threads=2)
    assert fp.threads == 2
    assert fp.torch == torch.__version__
    assert fp.hadnas == __version__
    assert fp.cpu and fp.cores >= 1
    assert fp.device.startswith("cpu")


def test_id_is_stable_and_tracks_fields() -> None:
    assert fingerprint(1).id == fingerprint(1).id
    assert fingerprint(1).id != fingerprint(2).id
    fp = fingerprint(1)
    assert Fingerprint.from_dict(fp.to_dict()) == fp


def test_id_changes_with_torch_version() -> None:
    fp = fingerprint(1)
    data = {k: v for k, v in fp.to_dict().items() if k != "id"}
    assert Fingerprint(**{**data, "torch": "0.0.1"}).id != fp.id
    assert "-t1-" in fp.id and fp.id.startswith("cpu-")


def test_cpu_model_reads_cpuinfo(tmp_path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t: x\n")
    assert cpu_model.__wrapped__(str(info)) == "Test CPU 9000"
    assert cpu_model.__wrapped__(str(tmp_path / "missing"))  # falls back to platform
