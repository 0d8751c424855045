"""The front end: spec text -> source spans -> AST (immutable records) -> checked program,
with every problem a located diagnostic. Torch-free and pydantic-free.

Modules, in the order data flows: ``records`` (the immutable record base), ``source`` (text
and spans), ``parser`` (lark -> ``nodes``, built in one pass by ``builder``; ``syntax_errors``
words lark's errors), ``diagnostics`` (collected, rendered errors) and
``analysis`` (parse + check as one call: what ``lightdsl check`` runs). This file imports
nothing, so that the checker can use ``nodes`` and ``diagnostics`` while ``analysis`` uses the
checker.
"""
