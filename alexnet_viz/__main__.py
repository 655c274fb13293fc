"""`python -m alexnet_viz ...` runs the command-line interface."""
import sys

from .cli import main

sys.exit(main())
