#!/usr/bin/env python
"""Convert an SSL checkpoint's online encoder for mmseg, detectron2 or torchvision.

``python tools/convert_checkpoint.py SRC DST --to {mmseg,detectron2,torchvision}
[--from FORMAT] [--depth N]``; see ``--help`` and ``segssl/convert/cli.py``.
"""
import sys

from segssl.convert.cli import main

if __name__ == '__main__':
    sys.exit(main())
