"""The ``mrdtrack`` command line (Typer + Rich).

Commands are thin: they parse options, call the domain or service functions and render
the result. Errors are translated to exit codes in one place, :func:`main`:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     success
1     unexpected internal error (a bug: please report it)
2     bad input or usage: one line on stderr naming the field, the value and
      what is accepted; nothing on stdout
3     the input is valid but the result is not evaluable (e.g. a QC failure);
      the result is still printed, with ``"status": "not_evaluable"``
====  ==========================================================================
"""

from mrdtrack.cli.app import app, main

__all__ = ["app", "main"]
