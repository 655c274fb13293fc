"""What the article (Azel Daniel, "Understanding AlexNet: A Detailed Walkthrough", 2020) states.

Transcribed once from the seed text, and the only place in the project where the article's
numbers are typed: the derivations and the errata compare everything the ledger computes
against these values, so a number here is a claim to check, never a result to display as ours.
"""
from __future__ import annotations

from dataclasses import dataclass

TITLE = "Understanding AlexNet: A Detailed Walkthrough"
AUTHOR = "Azel Daniel"
PUBLISHED = "Towards Data Science, 24 Sep 2020"

INPUT_HWC: tuple[int, int, int] = (224, 224, 3)
"""The input it says AlexNet was built for, in its (H x W x C) order."""

SIZE_FORMULA = "⌈(input_size − kernel_size + 2 × padding) / stride⌉ + 1"
"""Its output-size formula, verbatim in meaning: note the ceiling."""

TOTAL_PARAMS_CLAIM = 62_000_000
TOTAL_PARAMS_QUOTE = "It boasted a total of over 62 million trainable parameters."

LAYER_COUNT = 11


@dataclass(frozen=True)
class ArticleLayer:
    """One layer as the article describes it; None where the article states nothing."""

    name: str
    description: str  # its list entry, e.g. "Convolution Layer (96, 11×11)"
    source: str  # the layer it says the input came from
    in_hwc: tuple[int, ...]
    out_hwc: tuple[int, ...]
    kernel: int | None
    stride: int | None
    padding: int | None  # None where it gives none; pools are only called "zero-padded"
    params: int | None
    running_total: int | None
    relu_after: bool
    quote: str  # the sentence with the layer's numbers, for the errata

    @property
    def out_chw(self) -> tuple[int, ...]:
        """The output in the ledger's (C, H, W) order, to compare with a ledger row."""
        return chw(self.out_hwc)


def chw(hwc: tuple[int, ...]) -> tuple[int, ...]:
    """(H, W, C) as the article writes shapes -> (C, H, W) as the ledger keeps them; vectors unchanged."""
    return (hwc[2], hwc[0], hwc[1]) if len(hwc) == 3 else hwc


LAYERS: tuple[ArticleLayer, ...] = (
    ArticleLayer("C1", "Convolution Layer (96, 11×11)", "input", (224, 224, 3), (55, 55, 96), 11, 4, 2,
                 34_944, None, True,
                 "96 (11×11) kernels with a stride of four and a padding of two. This produced a "
                 "(55 × 55 × 96) output tensor … The layer contained 34,944 trainable parameters."),
    ArticleLayer("S2", "Max Pooling Layer (3×3)", "C1", (55, 55, 96), (27, 27, 96), 3, 2, None,
                 None, None, False,
                 "a zero-padded sub-sampling operation using a (3×3) kernel with a stride of two. "
                 "This produced a (27 × 27 × 96) output tensor"),
    ArticleLayer("C3", "Convolution Layer (256, 5×5)", "S2", (27, 27, 96), (27, 27, 256), 5, 1, 2,
                 614_656, 649_600, True,
                 "256 (5×5) kernels with a stride of one, and a padding of two … (27 × 27 × 256) … "
                 "614,656 trainable parameters, which summed to a total of 649,600"),
    ArticleLayer("S4", "Max Pooling Layer (3×3)", "C3", (27, 27, 256), (13, 13, 256), 3, 2, None,
                 None, None, True,
                 "a zero-padded sub-sampling operation using a (3×3) kernel with a stride of two … "
                 "(13 × 13 × 256) output tensor that was then passed through a ReLU activation function"),
    ArticleLayer("C5", "Convolution Layer (384, 3×3)", "C4", (13, 13, 256), (13, 13, 384), 3, 1, 1,
                 885_120, 1_534_720, True,
                 "accepted output from the layer C4, a (13 × 13 × 256) tensor … 384 (3×3) kernels with a "
                 "stride and padding of one … 885,120 trainable parameters, … a total of 1,534,720"),
    ArticleLayer("C6", "Convolution Layer (384, 3×3)", "C5", (13, 13, 384), (13, 13, 384), 3, 1, 1,
                 1_327_488, 2_862_208, True,
                 "the same convolution operation as layer C5, which lead to the same output size … "
                 "1,327,488 trainable parameters, … a total of 2,862,208"),
    ArticleLayer("C7", "Convolution Layer (256, 3×3)", "C6", (13, 13, 384), (13, 13, 256), 3, 1, 1,
                 884_992, 3_747_200, True,
                 "256 (3×3) kernels with a stride and padding of 1 … (13 × 13 × 256) … 884,992 "
                 "trainable parameters, … a total of 3,747,200"),
    ArticleLayer("S8", "Max Pooling Layer (3×3)", "C7", (13, 13, 256), (6, 6, 256), 3, 2, None,
                 None, None, True,
                 "a zero-padded sub-sampling operation using a (3×3) window region with a stride of two … "
                 "(6 × 6 × 256) output tensor that was then passed through a ReLU activation function"),
    ArticleLayer("F9", "Fully-Connected Layer (4096)", "S8", (6, 6, 256), (4096,), None, None, None,
                 37_752_832, 41_500_032, True,
                 "a flattened (6 × 6 × 256) tensor … (4096×1) output tensor … 37,752,832 trainable "
                 "parameters, … a total of 41,500,032"),
    ArticleLayer("F10", "Fully-Connected Layer (4096)", "F9", (4096,), (4096,), None, None, None,
                 16_781_312, 58_281_344, True,
                 "(4096×1) tensor from the layer F9 … the same (4096×1) output tensor … 16,781,312 "
                 "trainable parameters, … a total of 58,281,344"),
    ArticleLayer("F11", "Fully-Connected Layer (1000)", "F10", (4096,), (1000,), None, None, None,
                 4_097_000, 62_378_344, False,
                 "(1000×1) output tensor that was then passed through a softmax activation function. "
                 "The layer contained 4,097,000 trainable parameters, … 62,378,344 trainable parameters overall"),
)

NAMES: tuple[str, ...] = tuple(layer.name for layer in LAYERS)


def layer(name: str) -> ArticleLayer:
    """The article's description of one layer (KeyError for a name it does not use)."""
    for entry in LAYERS:
        if entry.name == name:
            return entry
    raise KeyError(name)


@dataclass(frozen=True)
class FigureExample:
    """One of the worked examples of Figures 2-4."""

    figure: int
    input_hwc: tuple[int, ...]
    kernel_hwc: tuple[int, ...]
    stride: int
    padding: int  # "zero padding", read as padding 0 (the stated output needs exactly that)
    out_hwc: tuple[int, ...]
    quote: str


FIGURE2 = FigureExample(2, (6, 6, 3), (3, 3, 3), 1, 0, (4, 4, 3),
                        "a 3-channel (6×6) image, a 3-channel (3×3) kernel and a (1×1) bias … stride of one "
                        "and zero padding … This resulted in a 3-channel (4×4) convolved feature map.")
FIGURE3 = FigureExample(3, (6, 6, 3), (2, 2, 3), 2, 0, (3, 3, 3),
                        "a 3-channel (6×6) image and a 3-channel (2×2) kernel … stride of two and zero "
                        "padding … This resulted in a 3-channel (3×3) down-sampled feature map.")
FC_EXAMPLE: tuple[int, int, int] = (3, 4, 2)
"""Figure 4: a (3×1) input, a (4×1) hidden layer and a (2×1) output."""

QUOTES: dict[str, str] = {
    "overview": "It was designed to classify images for the ImageNet LSVRC-2010 competition, where it achieved "
                "state of the art results [1].",
    "multi_gpu": "It also worked with multiple GPUs.",
    "size_formula": "The size of the feature map was calculated as ⌈(input_size − kernel_size + 2 × padding) / "
                    "stride⌉ + 1.",
    "kernel_channels": "Generally, the number of kernel channels was always identical to the number of "
                       "input channels.",
    "pool_size_formula": "The size of the feature map for subsampling layers was calculated the same as "
                         "convolution layers.",
    "fc_hidden": "Fully connected layers were independent neural networks that possessed one or more hidden "
                 "layers.",
    "input": "AlexNet was classified as a deep convolutional network and it was built to accommodate coloured "
             "images of size (224 × 224 × 3).",
    "c1": "It performed a convolution operation using 96 (11×11) kernels with a stride of four and a padding of "
          "two. This produced a (55 × 55 × 96) output tensor that was then passed through a ReLu activation "
          "function then on to the next layer.",
    "s2": "It performed a zero-padded sub-sampling operation using a (3×3) kernel with a stride of two.",
    "f11": "The output of the softmax activation function contained the predictions of the network.",
    "training": "AlexNet was trained on the ImageNet LSVRC-2010 dataset using a batch size of 128, a momentum of "
                "0.9, and a weight decay of 0.0005[1].",
    "init": "The model used a zero-mean Gaussian distribution initialiser with a standard deviation of 0.01[1].",
    "dropout": "Dropout was also used in the first two fully-connected layers to reduce overfitting.",
    "two_gpus": "While AlexNet was undoubtedly a breakthrough algorithm for its time, for it to work as intended, "
                "it requires the use of at least two GPUs.",
    "pool_relu": "Used max pooling and ReLU activations when subsampling.",
    "relu_convs": "Used ReLU activations for convolutions.",
    "pool_kernels": "Used (3×3) kernels for max pooling.",
    "conv_kernels": "Used either (11×11) , (5×5) , or (3×3) kernels for convolutions.",
    "classes": "Classified images into one of 1000 classes.",
    "layers": "The 11 layers of AlexNet were: …",
    "f9": "This produced a (4096×1) output tensor that was then passed through a ReLu activation function, and on "
          "to the next layer.",
    "biology": "Convolutional Neural Networks were initially designed to mimic the biological processes of human "
               "vision.",
    "layer_types": "The three types of layers that traditional neural networks included were: 1. Convolution "
                   "Layers 2. Subsampling Layers 3. Fully Connected Layers",
    "stride": "Generally, the larger the stride was, the more spaces the kernels skipped between each convolution. "
              "This led to less overall convolutions and more miniature output size.",
    "multiply": "For each placement of a given kernel, a multiplication operation was performed between the input "
                "section and the kernel, with the bias summed to the result.",
    "position": "This typically reduced the size of the features significantly and helped to remove a network's "
                "position reliance.",
    "pool_types": "There were two conventional types of subsampling: Average Pooling and Max Pooling.",
    "pool_params": "Some implementations of these layers included some trainable parameters to aid with overall "
                   "model learning.",
    "fc_ununique": "Fully connected layers were ununique to CNNs.",
    "prebuilt": "Now that you have this knowledge about AlexNet, you can use prebuilt AlexNet models, or even build "
                "one yourself with libraries such as PyTorch or Keras.",
    "reference": "[1] A. Krizhevsky, S. Ilya, and G. E. Hinton, ImageNet Classification with Deep Convolutional "
                 "Neural Networks (2012), In Advances in Neural Information Processing Systems 25 (NIPS 2012)",
}
"""Its sentences, verbatim, for each finding's source; keys name what the sentence claims."""

COMPETITION = "LSVRC-2010"
MOMENTUM = 0.9
WEIGHT_DECAY = 0.0005
INIT_MEAN, INIT_STD = 0.0, 0.01
BATCH_SIZE = 128
DROPOUT_LAYERS: tuple[str, ...] = ("F9", "F10")
POOL_KERNEL = 3
CONV_KERNELS: tuple[int, ...] = (11, 5, 3)
CLASSES = 1000
REFERENCE_AUTHORS: tuple[str, ...] = ("A. Krizhevsky", "S. Ilya", "G. E. Hinton")
"""Its reference [1]'s authors, as printed."""
