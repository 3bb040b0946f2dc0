"""Where and how a model runs: devices, distributed processes, int8 quantization, and peak memory."""
