"""Generators of the files made from the syscall table (run as scripts; see the Makefile's generate)."""
