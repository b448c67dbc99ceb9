"""What gpuless knows about a machine beyond ``toolkit.core.hardware``'s types: its GPUs (``gpu``)."""
