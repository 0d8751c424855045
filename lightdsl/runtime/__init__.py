"""Torch-only code shared by lightdsl's builder and the scripts ``lightdsl codegen`` writes.

Every module here imports only the standard library, numpy and torch (never the rest of
lightdsl; optional libraries such as matplotlib only inside the function that needs them), so
that the code generator can copy a class or function from it, by reading its
source, into a standalone script (:mod:`lightdsl.codegen.helpers`). A vocabulary entry whose
target is ``lightdsl.runtime.<module>.<Name>`` is built from here and printed as ``Name(...)``.
"""
