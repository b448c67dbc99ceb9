"""Choosing a model for a machine: the memory budget, each candidate judged, the pick and its reasons,
what a predicted speed means (and when a GPU outside Docker is faster), the one plan both front ends use,
which model to use when none is named, and why a pull failed."""
