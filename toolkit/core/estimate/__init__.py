"""Predictions of memory, decode and prefill speed: the estimator, its parameters and evidence, the
memory and speed terms, the Metal (native Mac) fit, the speed grades, and this machine's calibration."""
