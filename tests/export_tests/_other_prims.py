"""A primitive module in another file, importing ``Tensor`` by name (for test_sources)."""

from __future__ import annotations

from torch import Tensor, nn


class TypedScale(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x * 2
