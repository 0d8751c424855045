"""The front end: spec text -> source spans -> parse tree -> AST (pydantic nodes) -> checked
program, with every problem a located diagnostic. Torch-free.

Modules, in the order data flows: ``source`` (text and spans), ``parser`` (lark -> ``nodes``;
``syntax_errors`` words lark's errors), ``diagnostics`` (collected, rendered errors) and
``analysis`` (parse + check as one call: what ``lightdsl check`` runs). This file imports
nothing, so that the checker can use ``nodes`` and ``diagnostics`` while ``analysis`` uses the
checker.
"""
