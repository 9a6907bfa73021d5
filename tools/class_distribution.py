#!/usr/bin/env python
"""Class distribution of train-id label maps: the prior of distribution-aligned IntraMix.

    python tools/class_distribution.py LABEL_DIR [-o OUT.json] [--suffix _labelTrainIds.png] [--num-classes 19]

counts the pixels of each train id (255 ignored) in every LABEL_DIR/**/*SUFFIX and writes
{"class_frequencies": [...], "pixels": [...], "files": N} atomically (default: stdout).
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

from segssl.cli import HelpFormatter
from segssl.io.atomic import atomic_outputs


def class_pixels(label_dir, suffix='_labelTrainIds.png', num_classes=19, ignore_index=255):
    """(pixel counts per class, number of files) over the label maps under ``label_dir``."""
    paths = sorted(os.path.join(r, n) for r, _, ns in os.walk(label_dir) for n in ns if n.endswith(suffix))
    if not paths:
        raise FileNotFoundError(f"no '*{suffix}' files under {label_dir!r}")
    counts = np.zeros(num_classes, dtype=np.int64)
    for p in paths:
        lab = np.array(Image.open(p)).ravel()
        lab = lab[lab != ignore_index]
        if lab.size and lab.max() >= num_classes:
            raise ValueError(f'{p}: train id {int(lab.max())} >= num_classes={num_classes}')
        counts += np.bincount(lab, minlength=num_classes)
    return counts, len(paths)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument('label_dir', help='folder searched recursively for label maps')
    ap.add_argument('-o', '--out', help='JSON file to write, atomically (default: print to stdout)')
    ap.add_argument('--suffix', default='_labelTrainIds.png', help='label file name ending')
    ap.add_argument('--num-classes', type=int, default=19,
                    help='number of train ids; a larger id in a label map is an error')
    args = ap.parse_args(argv)
    try:
        counts, files = class_pixels(args.label_dir, args.suffix, args.num_classes)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}')
        return 1
    out = dict(class_frequencies=(counts / max(1, counts.sum())).tolist(), pixels=counts.tolist(), files=files)
    text = json.dumps(out, indent=1)
    if not args.out:
        print(text)
        return 0
    with atomic_outputs(args.out) as (tmp, ):
        with open(tmp, 'w') as f:
            f.write(text + '\n')
    print(f'wrote {args.out} ({files} files)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
