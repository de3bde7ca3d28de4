"""The device fingerprint: what a latency number (and a lookup table) is valid for.

A table profiled on one CPU model, thread count or torch build is wrong on another, so tables
are cached under ``runs/latency/<fingerprint id>.json`` and reused only on a match.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import torch

from hadnas.version import __version__


@dataclass(frozen=True)
class Fingerprint:
    """Everything that changes per-op costs. ``id`` is a short stable hash of the fields."""

    cpu: str
    cores: int
    threads: int
    device: str
    torch: str
    hadnas: str
    machine: str = ""

    @property
    def id(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        slug = "".join(c if c.isalnum() else "-" for c in self.device.lower()).strip("-")
        return f"{slug[:24]}-t{self.threads}-{hashlib.sha1(blob).hexdigest()[:10]}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "id": self.id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(**{k: v for k, v in data.items() if k != "id"})


@lru_cache(maxsize=1)
def cpu_model(path: str = "/proc/cpuinfo") -> str:
    """The CPU model name (``/proc/cpuinfo``), else ``platform.processor()``."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def fingerprint(threads: int = 1, device: str = "cpu") -> Fingerprint:
    """The fingerprint of this machine for ``threads`` intra-op threads on ``device``."""
    name = cpu_model()
    if device.startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
        device_label = f"cuda {name}"
    else:
        device_label = f"cpu {name}"
    return Fingerprint(
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        threads=int(threads),
        device=device_label,
        torch=torch.__version__,
        hadnas=__version__,
        machine=platform.machine(),
    )
