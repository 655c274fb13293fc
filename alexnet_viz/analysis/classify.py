"""Classify many image files in batches: one result per file, an unreadable file one error, never a crash."""
from __future__ import annotations

import sys

from tqdm import tqdm

from alexnet_viz.analysis.probe import predict_batch
from alexnet_viz.core.casting import cast_input
from alexnet_viz.core.model import AlexNet
from alexnet_viz.inputs.imagefiles import ImageFiles, loader


def classify(files: list[str], model: AlexNet, *, topk: int, batch_size: int, workers: int,
             autocast: str | None = None, precision: str = "float32") -> list[dict]:
    """One result per file, in order: {"path", "top": [{"label", "prob", "index"}]} or {"path", "error"}.

    `model` must already be in `precision` (casting.twin): each batch is cast to match it.
    """
    results: list[dict] = [{"path": f} for f in files]
    dataset = ImageFiles(files, model.spec)
    with tqdm(total=len(files), unit="img", file=sys.stderr, disable=None, leave=False) as bar:
        for indices, batch, errors in loader(dataset, batch_size, workers):
            for i, error in errors:
                results[i]["error"] = error
            if batch is not None:
                batch = cast_input(batch, precision)
                for i, pred in zip(indices, predict_batch(model, batch, topk, autocast=autocast)):
                    results[i]["top"] = [{"label": label, "prob": round(prob, 6), "index": index}
                                         for index, label, prob in zip(pred.indices, pred.labels, pred.probs)]
            bar.update(len(indices) + len(errors))
    return results


__all__ = ["classify"]
