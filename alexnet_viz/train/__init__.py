"""Training AlexNet: the paper's recipe by default, torchrun-ready, watched by the app.

`config` holds the recipes as data, `sources` finds or fetches the images, `data` the folder
dataset and augmentations, `demo` the
synthetic dataset, `ddp` the process group, `loop` the training run itself, `runs` the run
directory's files (read by the app), `experiment` the paper's ReLU-vs-tanh figure.
"""
