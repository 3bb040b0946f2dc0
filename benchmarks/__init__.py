"""Speed and memory benchmarks; each script prints JSON. Never run as tests."""
