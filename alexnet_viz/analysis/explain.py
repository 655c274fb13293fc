"""Why the network chose a class: Grad-CAM, occlusion sensitivity and gradient saliency (captum).

Each method returns a float32 (H, W) map in [0, 1] at the input's resolution, 1 = most evidence
for the target class, ready to overlay on the picture the network saw.

captum attaches hooks and switches gradients on; the model handed in is usually the app's shared
one, run by other sessions at the same time. So every method works on a *twin*: new module
objects that share the very same weight tensors (no copy of the 60 M parameters, no extra
memory), put in eval mode. captum's hooks live and die on the twin; the shared model's hooks,
modes, parameters and `requires_grad` flags are never touched.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam, Occlusion, Saliency

from alexnet_viz.core.casting import cast_input, twin
from alexnet_viz.core.device import model_device
from alexnet_viz.core.model import AlexNet
from alexnet_viz.errors import AlexVizError

OCCLUSION_WINDOW = 32
OCCLUSION_STRIDE = 16
OCCLUSION_BATCH = 32  # occluded copies per forward: bounded memory, few Python round trips


def _one_image(model: AlexNet, x: torch.Tensor, target: int) -> torch.Tensor:
    """The input as a (1, 3, H, W) float tensor on the model's device, outside any inference mode."""
    x = x.unsqueeze(0) if x.dim() == 3 else x
    if x.dim() != 4 or x.shape[0] != 1:
        raise AlexVizError(f"Attribution takes one image of shape (1, 3, H, W), got {tuple(x.shape)}.")
    classes = model.spec.layers[-1].out
    if not 0 <= int(target) < classes:
        raise AlexVizError(f"Target class {target} does not exist: this network has classes 0 to {classes - 1}.")
    with torch.inference_mode(False):  # a clone made here is a normal tensor, fit for autograd
        return x.detach().to(model_device(model), torch.float32).clone()


def _unit(attribution: torch.Tensor) -> np.ndarray:
    """Positive evidence scaled so its maximum is 1; all zeros when there is none."""
    a = torch.nan_to_num(attribution.detach().float().cpu()).clamp_min(0.0)
    peak = float(a.max())
    return (a / peak if peak > 0 else torch.zeros_like(a)).numpy().astype(np.float32)


def grad_cam(model: AlexNet, x: torch.Tensor, target: int, layer: str = "C7") -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) on a spatial layer's output, upsampled to the input.

    The map is ReLU(sum_c mean(d score / d A_c) * A_c) over the layer's output A (after its ReLU),
    so a late layer (C7, 13x13 at 224) gives coarse, class-specific blobs; early layers are
    sharper but hardly class-specific.
    """
    x = _one_image(model, x, target)
    if layer not in model.layer_names or not model.spec.layer(layer).is_spatial:
        spatial = [l.name for l in model.spec.layers if l.is_spatial]
        raise AlexVizError(f"Grad-CAM needs a spatial layer: choose one of {', '.join(spatial)}, not {layer!r}.")
    net = twin(model)
    output_module = list(net.parts(layer).values())[-1]  # what capture calls "<layer>"
    with torch.inference_mode(False), torch.enable_grad():
        cam = LayerGradCam(net, output_module).attribute(x, target=int(target), relu_attributions=True)
    cam = F.interpolate(cam.detach(), size=x.shape[-2:], mode="bilinear", align_corners=False)
    return _unit(cam[0, 0])


def occlusion(model: AlexNet, x: torch.Tensor, target: int, window: int = OCCLUSION_WINDOW,
              stride: int = OCCLUSION_STRIDE, precision: str = "float32") -> np.ndarray:
    """How much the target's logit drops when a window x window patch is replaced by the mean colour.

    Cost: ((H - window) // stride + 1) ** 2 forwards, batched OCCLUSION_BATCH at a time; the
    defaults at 224 make 13 x 13 = 169 forwards, a few seconds on two CPU cores. Pixels covered by
    several windows get the average drop; zero in normalised space is the dataset's mean colour.
    The forwards run on a twin in `precision` (channels_last; bf16 uses the CPU's bf16 units),
    while captum's sums stay float32: the network's logits come back as float32.
    """
    x = _one_image(model, x, target)
    size = min(x.shape[-2:])
    if not 1 <= window <= size or not 1 <= stride <= window:
        raise AlexVizError(f"Occlusion needs 1 <= window <= {size} and 1 <= stride <= window "
                           f"(got window {window}, stride {stride}).")
    channels = x.shape[1]
    net = twin(model, precision)

    def logits(batch: torch.Tensor) -> torch.Tensor:
        return net(cast_input(batch, precision)).float()

    with torch.inference_mode(False), torch.no_grad():
        drop = Occlusion(logits).attribute(x, sliding_window_shapes=(channels, window, window),
                                        strides=(channels, stride, stride), baselines=0.0, target=int(target),
                                        perturbations_per_eval=OCCLUSION_BATCH)
    return _unit(drop[0].mean(dim=0))


def saliency(model: AlexNet, x: torch.Tensor, target: int) -> np.ndarray:
    """Gradient saliency (Simonyan et al. 2014): |d score / d pixel|, the largest over colours."""
    x = _one_image(model, x, target).requires_grad_(True)
    net = twin(model)
    with torch.inference_mode(False), torch.enable_grad():
        grads = Saliency(net).attribute(x, target=int(target), abs=True)
    return _unit(grads[0].amax(dim=0))


__all__ = ["OCCLUSION_BATCH", "OCCLUSION_STRIDE", "OCCLUSION_WINDOW", "grad_cam", "occlusion", "saliency", "twin"]


METHODS: dict[str, Callable[[AlexNet, torch.Tensor, int], np.ndarray]] = {
    "grad_cam": grad_cam,
    "saliency": saliency,
    "occlusion": occlusion,
}
"""Every explanation by its name, so callers look one up instead of reaching into the module."""
