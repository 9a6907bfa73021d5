#!/usr/bin/env python
"""docs/RESULTS.md's summary table, regenerated from the headline tools' results files.

    python tools/results_summary.py [--results work_dirs/results] [--write docs/RESULTS.md]

Reads the results.json each command of docs/RESULTS.md writes under --results (the layout of those
commands' --out / --work-dir), takes every seed of both arms, and prints one row per comparison:
mean +- std of each arm, A - B, the largest seed std and the verdict of
segssl.runs.experiments.compare_arms. --write replaces the table between the summary markers of
that file (atomically). The results files of the reported runs are kept in docs/results/, so
`--results docs/results` regenerates the table in docs/RESULTS.md exactly (a test checks it).
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'plugins'))

from segssl.cli import HelpFormatter
from segssl.io.atomic import atomic_outputs
from segssl.runs.summary import Entry, replace_between_markers, summary_markdown, summary_rows

PIXPRO = 'pixpro_pool/results_labels{}_pool2000.json'
ENTRIES = tuple(
    Entry(f'PixPro -> FCN-16 ({p})', f'{how}, {split.replace("-", "/")} labels', PIXPRO.format(split), 'transfer',
          f'fcn16{key}_ssl', f'fcn16{key}_random', 'PixPro init', 'random init')
    for p, split in (('P1', '1-8'), ('P1b', '1-30'))
    for how, key in (('fine-tuned', ''), ('frozen encoder', '_frozen'))) + (
        Entry('ClassMix, 1/8 labels (P2)', 'warm start, 1 thread', 'classmix_warm_t1/results.json', 'classmix',
              'classmix', 'supervised', 'ClassMix', 'supervised'),
        Entry('ClassMix, 1/8 labels (P2)', 'warm start, 2 threads', 'classmix_warm_t2/results.json', 'classmix',
              'classmix', 'supervised', 'ClassMix', 'supervised'),
        Entry('DACS (P2)', 'target val, 1 thread', 'dacs_t1/results.json', 'dacs', 'dacs', 'source-only', 'DACS',
              'source-only'),
        Entry('DACS (P2)', 'target val, 2 threads', 'dacs_t2/results.json', 'dacs', 'dacs', 'source-only', 'DACS',
              'source-only'),
        Entry('DACS (P4)', 'target val, 1 thread', 'dacs_5seeds/results.json', 'dacs', 'dacs', 'source-only', 'DACS',
              'source-only'),
    ) + tuple(
        Entry(f'{task} pretext -> ERFNet (P3)', f'{how}, 1/8 labels', 'erfnet_pool/results_labels1-8_pool2000.json',
              'transfer', f'erfnet{key}_{task}', f'erfnet{key}_kaiming', f'{task} init', 'Kaiming init')
        for task in ('rotation', 'colorization')
        for how, key in (('fine-tuned', ''), ('frozen encoder', '_frozen'))) + tuple(
            Entry('SimCLR -> two-block (P5)', f'{how}, 1/8 labels, val {name}',
                  'simclr_pool/results_labels1-8_pool2000.json', 'transfer', f'twoblock{key}_ssl',
                  f'twoblock{key}_scratch', 'SimCLR init', 'scratch', metric)
            for metric, name in (('aAcc', 'pixel accuracy'), ('mIoU', 'mIoU'))
            for how, key in (('fine-tuned', ''), ('frozen encoder', '_frozen'))) + tuple(
                Entry('PixPro -> Mask R-CNN (P6)', f'{how}, 1/8 labels, val {name}',
                      'maskrcnn_pool/results_labels1-8_pool2000.json', 'transfer', f'mask_rcnn{key}_ssl',
                      f'mask_rcnn{key}_scratch', 'PixPro init', 'scratch', metric)
                for metric, name in (('segm_AP', 'segm AP'), ('bbox_AP', 'bbox AP'))
                for how, key in (('fine-tuned', ''), ('frozen backbone', '_frozen')))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument('--results', default='work_dirs/results', help='folder the RESULTS.md commands wrote into')
    p.add_argument('--write', metavar='FILE',
                   help='replace the summary table between the markers of FILE (default: print it only)')
    args = p.parse_args(argv)
    try:
        table = summary_markdown(summary_rows(ENTRIES, os.path.join(ROOT, args.results)))
    except (OSError, ValueError, KeyError) as e:
        p.error(str(e) if not isinstance(e, KeyError) else f'a results file lacks the key {e}')
    print(table, end='')
    if args.write:
        with open(args.write) as f:
            text = replace_between_markers(f.read(), table)
        with atomic_outputs(args.write) as (tmp, ):
            with open(tmp, 'w') as f:
                f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
