"""The names of the reduced precisions the CLI and the library accept, importable without torch."""
from __future__ import annotations

AUTOCAST = ("bf16", "fp16")
"""Mixed-precision choices: bf16 (CUDA, and CPUs with bf16 units such as AMX) and fp16 (CUDA)."""
