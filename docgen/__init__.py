"""docgen: behavioral-health treatment plans and progress notes from structured records.

The pipeline follows the package's folders: load -> model (validate) -> check -> compose ->
render -> sign/package -> write. :mod:`docgen.api` is the Python API; ``docgen`` the CLI.
"""
__version__ = "0.2.0"
