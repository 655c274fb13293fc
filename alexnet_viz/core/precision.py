"""The names of the precisions the CLI and the library accept, importable without torch."""
from __future__ import annotations

AUTOCAST = ("bf16", "fp16")
"""Mixed-precision choices: bf16 (CUDA, and CPUs with bf16 units such as AMX) and fp16 (CUDA)."""

PRECISIONS = ("float32", "bf16")
"""What batch work (predict on folders, occlusion, bench) runs in: weights cast once, channels_last.

Unlike autocast, which re-casts every weight on every call (62 M of them: slower than float32 at
batch 1 on a CPU), a cast model costs its conversion once. Pages draw in float32.
"""
