"""The ``gateway`` command line: a thin shell over library functions."""
