"""`gpuless tune`'s loop: restart the server with each candidate and measure it (tuner), and the server it
restarts (target)."""
