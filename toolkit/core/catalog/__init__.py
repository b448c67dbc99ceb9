"""The models gpuless knows: the catalog's data classes and lookups, its TOML parser, estimates for tags
it does not describe, and which served models think."""
