"""Which top-level functions and classes of a generated script nothing reachable uses.

A definition is live when the script's module-level code (constants, imports, the ``if
__name__ == "__main__":`` block) or a live definition reads its name as a global. Names are
read from symbol tables (``symtable``), so a parameter or local that happens to share a
function's name (``split`` the argument, ``split`` the helper) does not keep it alive.
"""

from __future__ import annotations

import ast
import symtable


def global_reads(source: str) -> set[str]:
    """Global names a piece of module-level code reads, in any scope nested in it."""
    found: set[str] = set()
    tables = [symtable.symtable(source, "<script>", "exec")]
    while tables:
        table = tables.pop()
        found |= {s.get_name() for s in table.get_symbols()
                  if s.is_referenced() and s.is_global()}
        tables += table.get_children()
    return found


def unused_definitions(text: str) -> dict[str, int]:
    """Top-level def/class name -> its line count, for each one nothing live reaches."""
    tree = ast.parse(text)
    definitions = {node.name: node for node in tree.body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    roots = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    todo = set().union(*(global_reads(ast.get_source_segment(text, node)) for node in roots))
    live: set[str] = set()
    while todo:
        name = todo.pop()
        if name in definitions and name not in live:
            live.add(name)
            todo |= global_reads(ast.get_source_segment(text, definitions[name]))
    return {name: node.end_lineno - node.lineno + 1 for name, node in definitions.items()
            if name not in live}
