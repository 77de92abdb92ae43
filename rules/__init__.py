"""reslint's rule catalogue: one rule per module, named after its code (RN203_conv_bias_before_norm.py)."""
