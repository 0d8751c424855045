"""Helpers the suite's tests share, imported as ``tests.helpers.NAME`` (from any test folder,
package or not: pytest puts the repository root on sys.path).

A conftest.py holds fixtures and hooks, which pytest finds by itself; nothing imports a conftest
as a module (tests/test_suite_helpers.py checks that).

- runner: every child process a test starts (python, ``lightdsl``, tools), with timeouts
- scripts: generating, importing and linting codegen's scripts
- specs: spec texts more than one test folder writes
"""
