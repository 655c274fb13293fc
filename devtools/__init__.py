"""Tools for tests, benchmarks and load tests: starting the app and a browser on loopback."""
