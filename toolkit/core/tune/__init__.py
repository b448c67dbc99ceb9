"""What `gpuless tune` tries and in which order (knobs), and who won and by how much (verdict)."""
