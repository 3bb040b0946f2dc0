"""Text to tokens and tokens to ids."""
