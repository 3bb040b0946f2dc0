"""Config-free building blocks: recurrent layers, the CRF, attention, convolutions."""
