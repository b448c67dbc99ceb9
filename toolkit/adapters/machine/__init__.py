"""Reading the machine beyond ``toolkit.adapters.probes``: the GPUs the OS shows (``gpus``)."""
