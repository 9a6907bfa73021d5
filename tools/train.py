#!/usr/bin/env python
"""mmseg's own tools/train.py (the copy packaged in mmseg/.mim/tools), with segssl importable.

Same command line as mmseg's: ``python tools/train.py CONFIG [--work-dir D] [--resume]
[--cfg-options k=v ...] [--launcher pytorch] [--amp]``; see ``--help``. segssl adds
``--auto-scale-lr`` (as mmdet and mmpretrain have it): the learning rate is scaled by the run's
global batch (processes x train_dataloader.batch_size) over the config's
``auto_scale_lr.base_batch_size``.
"""
import sys

from segssl.mmseg.tools import run_mmseg_tool

if __name__ == '__main__':
    sys.exit(run_mmseg_tool('train.py', sys.argv[1:]))
