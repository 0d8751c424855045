"""The front end: spec text -> source spans -> parse tree -> AST (pydantic nodes), with every
problem a located diagnostic. Torch-free.

Modules, in the order data flows: ``source`` (text and spans), ``parser`` (lark -> ``nodes``;
``syntax_errors`` words lark's errors) and ``diagnostics`` (collected, rendered errors). The
front end is the layer under the vocabulary and the checker and imports neither: parse + check
as one call is the analysis driver, :mod:`lightdsl.analysis`. This file imports nothing.
"""
