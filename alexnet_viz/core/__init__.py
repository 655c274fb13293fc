"""The network itself: its spec, bookkeeping, module, weights and where they come from, devices, precisions."""
