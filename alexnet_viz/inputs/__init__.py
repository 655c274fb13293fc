"""What comes in: uploaded pictures and folders of image files, made safe and turned into tensors."""
