"""The model library: the curated catalog, what fits this machine, downloads and loading on demand."""
