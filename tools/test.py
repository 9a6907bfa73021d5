#!/usr/bin/env python
"""mmseg's own tools/test.py (the copy packaged in mmseg/.mim/tools), with segssl importable.

Same command line as mmseg's: ``python tools/test.py CONFIG CHECKPOINT [--work-dir D]
[--cfg-options k=v ...] [--launcher pytorch]``; see ``--help``.
"""
import sys

from segssl.mmseg.tools import run_mmseg_tool

if __name__ == '__main__':
    sys.exit(run_mmseg_tool('test.py', sys.argv[1:]))
