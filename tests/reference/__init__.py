"""Plain NumPy references the kernel tests compare kiln against (see STYLE.md)."""
