"""Run directories: their layout, atomic writing, safe loading, packing into one file, and the data they remember."""
