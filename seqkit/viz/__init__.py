"""Pictures: attention matrices, training curves, and which words drove a classifier's decision."""
