"""Real servers and small fixtures shared by the tests and the benchmarks."""
