"""The front end: spec text -> source spans -> AST (immutable records), with every problem a
located diagnostic. Torch-free and pydantic-free.

Modules, in the order data flows: ``records`` (the immutable record base), ``source`` (text
and spans), ``parser`` (lark -> ``nodes``, built in one pass by ``builder``; ``syntax_errors``
words lark's errors) and ``diagnostics`` (collected, rendered errors). The front end is the
layer under the vocabulary and the checker and imports neither: parse + check as one call is
the analysis driver, :mod:`lightdsl.analysis`. This file imports nothing.
"""
