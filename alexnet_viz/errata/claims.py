"""The paper's own results for each of AlexNet's ideas, quoted with their section (no torch: the
architecture pages show them too)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One of the paper's own results, quoted with where it stands."""

    text: str
    source: str


PAPER = "Krizhevsky, Sutskever & Hinton (2012)"
CLAIMS: dict[str, Claim] = {
    "relu": Claim("A four-layer convolutional network with ReLUs reaches a 25 % training error rate on CIFAR-10 "
                  "six times faster than an equivalent network with tanh neurons.", f"{PAPER}, Sec. 3.1 and Figure 1"),
    "lrn": Claim("Response normalization reduces the top-1 and top-5 error rates by 1.4 % and 1.2 %; on CIFAR-10 a "
                 "four-layer CNN goes from 13 % test error without normalization to 11 % with it.",
                 f"{PAPER}, Sec. 3.3"),
    "pool": Claim("Overlapping pooling (s = 2, z = 3) reduces the top-1 and top-5 error rates by 0.4 % and 0.3 % "
                  "compared with the non-overlapping s = 2, z = 2, which gives outputs of equivalent dimensions; "
                  "models with overlapping pooling are slightly harder to overfit.", f"{PAPER}, Sec. 3.4"),
    "dropout": Claim("Dropout (p = 0.5) is used in the first two fully-connected layers; at test time all neurons are "
                     "used with their outputs multiplied by 0.5. Without it the network overfits substantially; "
                     "with it, it needs roughly twice the iterations to converge.", f"{PAPER}, Sec. 4.2"),
    "crops": Claim("Training uses random 224×224 patches of the 256×256 images and their horizontal reflections, "
                   "which increases the training set by a factor of 2048.", f"{PAPER}, Sec. 4.1"),
    "pca": Claim("To each training image's RGB pixels add [p1, p2, p3][α1λ1, α2λ2, α3λ3]ᵀ, with p_i, λ_i the "
                 "eigenvectors and eigenvalues of the 3×3 covariance of ImageNet's RGB values and α_i drawn from a "
                 "Gaussian with mean 0 and standard deviation 0.1, N(0, 0.1²), once per image per epoch; this cuts "
                 "the top-1 error by over 1 %.", f"{PAPER}, Sec. 4.1"),
    "tencrop": Claim("At test time the network averages its softmax over ten 224×224 patches: the four corners and "
                     "the centre, and their horizontal reflections.", f"{PAPER}, Sec. 4.1"),
    "gpus": Claim("The kernels of the second, fourth and fifth convolutional layers are connected only to the "
                  "kernel maps of the previous layer on the same GPU; those of the third take input from all "
                  "kernel maps of the second, and fully-connected neurons from all neurons of the previous layer. "
                  "The two-GPU net is 1.7 % / 1.2 % better (top-1 / top-5) than one with half as many kernels in "
                  "each convolutional layer on one GPU, except the last, which keeps its full size, as do the "
                  "fully-connected layers after it.", f"{PAPER}, Sec. 3.2 (and its footnote) and 3.5"),
}
