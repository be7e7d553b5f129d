"""The PyPI ``lvis`` package (0.5.3, used by mmdet's ``LVISMetric``) evaluates with ``np.float``,
removed in numpy 2. Its ``eval`` module gets a view of numpy that still has the old aliases, when
it is imported (``lvis`` pulls in matplotlib: never imported here unasked); numpy itself and the
installed files are left as they are."""
import importlib.abc
import sys
import types

import numpy as np

ALIASES = {'float': float, 'int': int, 'bool': bool, 'object': object, 'str': str}


class _NumpyWithAliases(types.ModuleType):
    """numpy, plus the aliases numpy 2 removed (``np.float`` → ``float``)."""

    def __getattr__(self, name):
        if name in ALIASES and not hasattr(np, name):
            return ALIASES[name]
        return getattr(np, name)


def patch(module: types.ModuleType) -> None:
    if not isinstance(getattr(module, 'np', None), _NumpyWithAliases):
        module.np = _NumpyWithAliases('numpy')


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``lvis.eval`` through the other finders and patches it once it has run."""

    def find_spec(self, name, path=None, target=None):
        if name != 'lvis.eval':
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                self._loader = spec.loader
                spec.loader = self
                return spec
        return None

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        patch(module)


def install() -> None:
    """Give ``lvis.eval`` the aliases, now if it is imported, else when it is; idempotent."""
    if all(hasattr(np, name) for name in ALIASES):
        return
    if 'lvis.eval' in sys.modules:
        patch(sys.modules['lvis.eval'])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
