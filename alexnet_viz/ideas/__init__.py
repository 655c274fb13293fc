"""The paper's ideas as small exact computations: ReLU, LRN, dropout, augmentation, the GPU towers."""
