#!/usr/bin/env python
"""Convert GTA5 labels to the 19 Cityscapes train ids, as mmseg's Cityscapes converter does.

    python tools/convert_gta5.py ROOT [-o OUT_DIR] [--nproc N]

reads ROOT/images/*.png + ROOT/labels/*.png (palette PNGs of Cityscapes label ids)
and writes *_labelTrainIds.png beside each label (atomically) and OUT_DIR/train.txt
(default ROOT). The mapping tables are in segssl.data.uda_labels.
"""
import sys

from segssl.data.label_convert import main

if __name__ == '__main__':
    sys.exit(main('gta5'))
