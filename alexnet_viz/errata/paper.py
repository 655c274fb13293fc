"""What the paper states (Krizhevsky, Sutskever & Hinton, NIPS 2012), typed once with its section.

The counterpart of article.py: claims about AlexNet are checked against these values and the
PAPER spec, never against the article's own transcription. Each passage is short and keeps the
paper's words, so a reader can find it; every number the errata uses from here names its passage.
"""
from __future__ import annotations

from dataclasses import dataclass

TITLE = "ImageNet Classification with Deep Convolutional Neural Networks"
AUTHORS = "Krizhevsky, Sutskever & Hinton"
VENUE = "NIPS 2012"


@dataclass(frozen=True)
class Passage:
    """A few of the paper's words and where they are."""

    section: str  # e.g. "Sec. 3.2", "Fig. 1 (Sec. 3.1)", "Abstract"
    text: str


PASSAGES: dict[str, Passage] = {
    "abstract": Passage("Abstract", "The neural network, which has 60 million parameters and 650,000 neurons, "
                        "consists of five convolutional layers … and three fully-connected layers with a final "
                        "1000-way softmax."),
    "ilsvrc2012": Passage("Abstract, Sec. 6", "We also entered a variant of this model in the ILSVRC-2012 "
                          "competition and achieved a winning top-5 test error rate of 15.3%, compared to 26.2% "
                          "achieved by the second-best entry."),
    "ensemble": Passage("Sec. 6, Table 2", "The CNN described in this paper achieves a top-5 error rate of 18.2%. "
                        "… Training one CNN, with an extra sixth convolutional layer over the last pooling layer, "
                        "to classify the entire ImageNet Fall 2011 release … and then \"fine-tuning\" it on "
                        "ILSVRC-2012 gives an error rate of 16.6%. Averaging the predictions of two CNNs that were "
                        "pre-trained on the entire Fall 2011 release with the aforementioned five CNNs gives an "
                        "error rate of 15.3%."),
    "data2010": Passage("Sec. 2", "ILSVRC-2010 is the only version of ILSVRC for which the test set labels are "
                        "available, so this is the version on which we performed most of our experiments."),
    "preprocessing": Passage("Sec. 2", "We did not pre-process the images in any other way, except for "
                             "subtracting the mean activity over the training set from each pixel."),
    "learned_layers": Passage("Sec. 3", "It contains eight learned layers — five convolutional and three "
                              "fully-connected."),
    "lrn_formula": Passage("Sec. 3.3", "we used k = 2, n = 5, α = 10⁻⁴, and β = 0.75. We applied this "
                           "normalization after applying the ReLU nonlinearity in certain layers."),
    "results2010": Passage("Sec. 6", "Our network achieves top-1 and top-5 test set error rates of 37.5% and "
                           "17.0% [on ILSVRC-2010]."),
    "dataset": Passage("Sec. 2", "In all, there are roughly 1.2 million training images, 50,000 validation "
                       "images, and 150,000 testing images."),
    "relu_speed": Passage("Fig. 1 (Sec. 3.1)", "A four-layer convolutional neural network with ReLUs … reaches a "
                          "25% training error rate on CIFAR-10 six times faster than an equivalent network with "
                          "tanh neurons."),
    "two_gpus": Passage("Sec. 3.2", "A single GTX 580 GPU has only 3GB of memory, which limits the maximum size "
                        "of the networks that can be trained on it. It turns out that 1.2 million training "
                        "examples are enough to train networks which are too big to fit on one GPU. Therefore "
                        "we spread the net across two GPUs."),
    "two_gpu_gain": Passage("Sec. 3.2", "This scheme reduces our top-1 and top-5 error rates by 1.7% and 1.2%, "
                            "respectively, as compared with a net with half as many kernels in each "
                            "convolutional layer trained on one GPU."),
    "one_gpu_net": Passage("Sec. 3.2, footnote", "The one-GPU net actually has the same number of kernels as the "
                           "two-GPU net in the final convolutional layer. … we did not halve the size of the final "
                           "convolutional layer (nor the fully-connected layers which follow)."),
    "lrn": Passage("Sec. 3.3", "Response normalization reduces our top-1 and top-5 error rates by 1.4% and "
                   "1.2%, respectively."),
    "overlap": Passage("Sec. 3.4", "This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, "
                       "respectively, as compared with the non-overlapping scheme s = 2, z = 2."),
    "architecture": Passage("Sec. 3.5, Fig. 2", "The ReLU non-linearity is applied to the output of every "
                            "convolutional and fully-connected layer."),
    "c1": Passage("Sec. 3.5", "The first convolutional layer filters the 224 × 224 × 3 input image with 96 "
                  "kernels of size 11 × 11 × 3 with a stride of 4 pixels"),
    "neurons": Passage("Sec. 3.5", "The network's input is 150,528-dimensional, and the number of neurons in "
                       "the network's remaining layers is given by 253,440–186,624–64,896–64,896–43,264–"
                       "4096–4096–1000."),
    "crops": Passage("Sec. 4.1", "extracting random 224 × 224 patches (and their horizontal reflections) from "
                     "the 256×256 images … This increases the size of our training set by a factor of 2048"),
    "ten_crops": Passage("Sec. 4.1", "At test time, the network makes a prediction by extracting five 224 × 224 "
                         "patches … as well as their horizontal reflections (hence ten patches in all), and "
                         "averaging the predictions made by the network's softmax layer on the ten patches."),
    "pca_colour": Passage("Sec. 4.1", "[PCA colour augmentation] reduces the top-1 error rate by over 1%."),
    "dropout": Passage("Sec. 4.2", "We use dropout in the first two fully-connected layers of Figure 2. … "
                       "Dropout roughly doubles the number of iterations required to converge."),
    "sgd": Passage("Sec. 5", "We trained our models using stochastic gradient descent with a batch size of 128 "
                   "examples, momentum of 0.9, and weight decay of 0.0005."),
    "init": Passage("Sec. 5", "We initialized the weights in each layer from a zero-mean Gaussian distribution "
                    "with standard deviation 0.01. We initialized the neuron biases in the second, fourth, and "
                    "fifth convolutional layers, as well as in the fully-connected hidden layers, with the "
                    "constant 1. … the remaining layers with the constant 0."),
    "schedule": Passage("Sec. 5", "… divide the learning rate by 10 when the validation error rate stopped "
                        "improving with the current learning rate. The learning rate was initialized at 0.01 and "
                        "reduced three times prior to termination. We trained the network for roughly 90 cycles "
                        "through the training set of 1.2 million images, which took five to six days on two NVIDIA "
                        "GTX 580 3GB GPUs."),
}

PARAMS_STATED = 60_000_000
NEURONS_STATED = 650_000
NEURONS_LISTED: tuple[int, ...] = (253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000)
INPUT_SIDE = 224
TRAIN_IMAGES, VAL_IMAGES, TEST_IMAGES = 1_200_000, 50_000, 150_000
CLASSES = 1000
COMPETITION_DATA = "ILSVRC-2010"  # the test set of most experiments (Sec. 2)
COMPETITION_WON = "ILSVRC-2012"
TOP1_2010, TOP5_2010 = 37.5, 17.0
TOP5_2012, TOP5_2012_RUNNER_UP = 15.3, 26.2  # the winning entry: an average of seven CNNs (Table 2)
TOP5_2012_ONE_CNN = 18.2  # one CNN as described, ILSVRC-2012 validation set (Sec. 6, Table 2)
ENSEMBLE_CNNS, ENSEMBLE_PRETRAINED = 7, 2  # two of the seven pre-trained on the Fall 2011 release
LEARNED_LAYERS = 8
RELU_SPEEDUP, RELU_TARGET_ERROR = 6, 25
GPUS, GPU_MEMORY_BYTES = 2, 3 * 2**30  # two GTX 580 3GB
TWO_GPU_GAIN = (1.7, 1.2)  # top-1, top-5 percentage points
LRN_GAIN = (1.4, 1.2)
OVERLAP_GAIN = (0.4, 0.3)
PCA_COLOUR_TOP1_GAIN = 1.0  # "over 1%"
RESIZE, CROP, AUGMENT_FACTOR, TEST_CROPS = 256, 224, 2048, 10
DROPOUT_P = 0.5
BATCH_SIZE, MOMENTUM, WEIGHT_DECAY = 128, 0.9, 0.0005
INIT_MEAN, INIT_STD = 0.0, 0.01
LEARNING_RATE, LR_DIVISOR, LR_DROPS = 0.01, 10, 3
EPOCHS, TRAINING_DAYS = 90, (5, 6)


def cite(key: str) -> str:
    """'Sec. 3.2' style reference for a passage, for a finding's source."""
    return PASSAGES[key].section
