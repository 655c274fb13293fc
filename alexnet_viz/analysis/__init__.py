"""Looking inside a running network: activations, attributions, visualisations, indexes, benchmarks."""
