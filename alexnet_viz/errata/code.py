"""What Krizhevsky's own code says, each with its file and line in akrizhevsky/cuda-convnet2.

The counterpart of paper.py for the code: a finding whose evidence is the code cites one of these,
so every file and line the errata and the pages quote is typed once. The layer definitions are
layers/layers-imagenet-2gpu-model.cfg (the two-GPU network, 2014 release: not the 2012 paper's
config, which was never published) and its parameters layers/layer-params-imagenet-2gpu-model.cfg.
ORIGINAL_LRN alone is from the 2011-12 cuda-convnet, which has no canonical repository.
"""
from __future__ import annotations

REPO = "akrizhevsky/cuda-convnet2"
LAYERS_2GPU = "layers/layers-imagenet-2gpu-model.cfg"
PARAMS_2GPU = "layers/layer-params-imagenet-2gpu-model.cfg"

CONV_CEIL = ("cuda-convnet2 layer.py:1097 (LocalLayerParser: modulesX = 1 + ceil((2·padding + imgSize − filterSize)"
             "/stride))")
POOL_CEIL = "cuda-convnet2 layer.py:1272 (PoolLayerParser: outputsX = ceil((imgSize − start − sizeX)/stride) + 1)"
CONV1_CFG = "cuda-convnet2 layers/layers-imagenet-1gpu.cfg:9-16 ([conv1] padding=0, stride=4, filterSize=11)"
CONV1_2GPU = f"cuda-convnet2 {LAYERS_2GPU}:9-33 ([conv1a], [conv1b]: 48 filters each, padding=0, inputs=data)"

LRN_SCALE = "cuda-convnet2 layer.py:1331 (NormLayerParser: dic['scale'] /= dic['size'] for a cross-map norm)"
LRN_KERNEL = ("cuda-convnet2 cudaconv3/src/conv_util.cu:1190-1206 (kFCNorm: window −size/2 … +size/2 within the "
              "layer's channels; denominator (minDiv + scale·Σ a²)^pow)")
LRN_PARAMS = f"cuda-convnet2 {PARAMS_2GPU}:156-174 ([rnorm1a] … [rnorm2b]: scale=0.0001, pow=0.75, minDiv=2)"
LRN_PER_GPU = (f"cuda-convnet2 {LAYERS_2GPU}:35-45, 95-105 ([rnorm1a]/[rnorm1b]: channels=48, size=5; "
               "[rnorm2a]/[rnorm2b]: channels=128, size=5)")
ORIGINAL_LRN = ("cuda-convnet (2011-12, code.google.com/p/cuda-convnet, in forks on GitHub): layer.py NormLayerParser "
                "divides scale by size the same way; no minDiv, its kernels add 1 (k fixed at 1)")
LRN = f"{LRN_SCALE}; {LRN_PARAMS}; {LRN_PER_GPU}"
LRN_SHORT = f"cuda-convnet2 layer.py:1331 and {PARAMS_2GPU}:156-174"  # for a sentence on a page
LRN_PER_GPU_SHORT = f"cuda-convnet2 {LAYERS_2GPU}:35-45"
# Where the released 2014 ImageNet config is not the 2012 paper's network (the 2012 config was never published).
CFG_DEPARTS = (f"cuda-convnet2 {LAYERS_2GPU}:9-20 ([conv1a]: no neuron=), :54 ([pool1a] neuron=relu: C1's ReLU after "
               "its LRN), :107-117 ([cnorm2a] type=rnorm, an extra spatial norm), :135-214 (conv3-conv5 initW=0.03); "
               f"{PARAMS_2GPU}:176-182 ([cnorm2a] scale=0.001)")

CROSSING = (f"cuda-convnet2 {LAYERS_2GPU}:137 ([conv3a] inputs=pool2a,pool2b), :165 ([conv4a] inputs=conv3a), "
            ":194 ([conv5a] inputs=conv4a), :240 ([fc2048a] inputs=pool3a,pool3b), :266 ([fc2048ba] "
            "inputs=dropout1a,dropout1b)")
FC_NO_RELU = (f"cuda-convnet2 {LAYERS_2GPU}:290-295 ([fc1000]: no neuron=, into the softmax), "
              ":244 ([fc2048a] neuron=relu)")
DROPOUT_CFG = f"cuda-convnet2 {LAYERS_2GPU}:256-262 ([dropout1a] type=dropout)"
DROPOUT_INVERTED = ("cuda-convnet2 cudaconvnet/include/layer.cuh:638-641 (training: kept values × 1/keep), "
                    "cudaconvnet/src/layer.cu:1333-1341 (evaluation: a plain copy)")
DROPOUT2 = "cuda-convnet2 cudaconvnet/src/layer.cu:1374-1382 (Dropout2Layer: × keep at test)"
DROPOUT = (f"cuda-convnet2 {LAYERS_2GPU}:256-262 ([dropout1a] inputs=fc2048a, after its neuron=relu), "
           f"{PARAMS_2GPU}:140-142 (keep=0.5)")
