"""Names a generated model class must not give its params and layers: attributes of
``nn.Module`` and ``pl.LightningModule`` (methods, instance state such as ``training``), which a
member of that name would shadow (``self.train = nn.Linear(...)`` breaks ``model.train()``).

The names are the checker's lists (written out there because neither imports torch);
tests/codegen and tests/check check that they cover every attribute of the installed torch and
pytorch-lightning.
"""

from __future__ import annotations

from ..vocab.reserved import LIGHTNING_MODULE, NN_MODULE_ATTRIBUTES, NN_MODULE_METHODS

# The attributes of the classes a generated model derives from: nn.Module (torch target) and
# pl.LightningModule (lightning target). One list with the checker's (lightdsl/vocab/reserved.py),
# so the staleness tests guard both; the generator adds no names of its own.
MODULE_ATTRIBUTES = NN_MODULE_METHODS | NN_MODULE_ATTRIBUTES | LIGHTNING_MODULE


def shadows_module_attribute(name: str) -> bool:
    """Whether ``self.<name>`` on a model would shadow an attribute of nn.Module or
    LightningModule (any dunder name counts: ``__dict__``, ``__class__``, ...)."""
    dunder = name.startswith("__") and name.endswith("__")
    return dunder or name in MODULE_ATTRIBUTES
