"""The one exception the checkpoint bridge raises for bad input."""


class ConversionError(ValueError):
    """A checkpoint cannot be converted.

    The message always starts with the file it is about and says what was found and what
    was expected, e.g. ``ckpt.pth: depth mismatch: found ResNet-50 (blocks [3, 4, 6, 3],
    Bottleneck); expected ResNet-101 (--depth 101)``.

    Attributes:
        path (str | None): the file the error is about.
    """

    def __init__(self, message, path=None):
        self.path = path
        super().__init__(f'{path}: {message}' if path else message)
