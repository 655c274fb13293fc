"""`python -m alexnet_viz ...` runs the command-line interface."""
import sys

from alexnet_viz.cli import main

if __name__ == "__main__":  # DataLoader workers started by spawn re-import this module
    sys.exit(main())
