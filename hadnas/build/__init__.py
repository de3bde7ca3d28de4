"""Build: IR → ``nn.Module`` with a generated forward."""

from __future__ import annotations

from hadnas.build.builder import HadnasModel, build, forward_source

__all__ = ["HadnasModel", "build", "forward_source"]
