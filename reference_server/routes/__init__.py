"""HTTP routes of the reference gateway, one module per surface."""
