"""The desktop GUI: the only package that imports Qt (always through :mod:`companion.ui.qt`)."""
