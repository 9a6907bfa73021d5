"""detectron2 0.6 on current Pillow and numpy: names they removed, put back only where missing.

detectron2 0.6 (its last release) still uses three names that its dependencies have since
removed:

* ``PIL.Image.LINEAR``, removed in Pillow 10, evaluated at import time as a default argument
  (``detectron2.data.transforms``): without it ``import detectron2.data`` fails. It was an alias
  of ``Image.BILINEAR``, which it becomes again.
* ``np.bool``, ``np.int``, ``np.float``, removed in numpy 1.24 (numpy 2 has ``np.bool`` again, as
  its bool scalar type): detectron2 uses them on some paths (empty polygon masks, the semantic
  segmentation and VOC evaluators). They were aliases of the builtins ``bool``, ``int`` and
  ``float``, which they become again.

:func:`apply` sets each name only if the installed package lacks it, and reports what it set;
it never replaces a name that exists. It runs when ``segssl.detectron2`` is imported, before
detectron2's modules are. Note that the numpy names are then visible to all code in the process,
as they were before numpy 1.24.
"""
ALIASES = (('PIL.Image', 'LINEAR', 'BILINEAR'), ('numpy', 'bool', bool), ('numpy', 'int', int), ('numpy', 'float',
                                                                                                 float))


def apply():
    """Put back each missing name of :data:`ALIASES`; return ``['module.name', ...]`` it set."""
    import importlib
    set_names = []
    for module_name, name, value in ALIASES:
        module = importlib.import_module(module_name)
        try:
            getattr(module, name)
            continue  # present: never replaced
        except AttributeError:
            pass
        setattr(module, name, getattr(module, value) if isinstance(value, str) else value)
        set_names.append(f'{module_name}.{name}')
    return set_names
