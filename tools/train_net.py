#!/usr/bin/env python
"""detectron2's stock tools/train_net.py, plus segssl: ``add_segssl_config``, configs whose
``_BASE_`` chain reaches a ``model_zoo://`` config, the synthetic COCO set and seeded COCO
subsets (SEGSSL.COCO_SUBSET), SyncBN built as BN in a single process (SEGSSL.SYNC_BN_FALLBACK),
a check of MODEL.WEIGHTS against SEGSSL.INIT, and COCOEvaluator through pycocotools when
detectron2 has no compiled extension. DefaultTrainer writes OUTPUT_DIR/metrics.json
(JSONWriter), checkpoints every SOLVER.CHECKPOINT_PERIOD and evaluates every TEST.EVAL_PERIOD
and at the end; results also go to OUTPUT_DIR/eval_results.json. Same command line as
detectron2's:

    python tools/train_net.py --config-file configs/detectron2/mask_rcnn_R_50_FPN_synthetic.yaml \
        [--num-gpus N] [--resume] [--eval-only] [KEY VALUE ...]
"""
import json
import logging
import os

import segssl.detectron2 as segssl_d2  # noqa: F401  (first: stands in for a missing detectron2._C)

# isort: split
import detectron2.utils.comm as comm
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import get_cfg
from detectron2.data import MetadataCatalog
from detectron2.engine import default_argument_parser, default_setup
from detectron2.evaluation import COCOEvaluator, verify_results

from segssl.detectron2 import add_segssl_config, register_synthetic_coco
from segssl.detectron2.coco_subset import register_coco_subsets
from segssl.detectron2.config import (check_init, describe_sync_bn_changes, merge_config_file, resolve_device,
                                      resolve_sync_bn)
from segssl.detectron2.datasets import SYNTHETIC_COCO, missing_synthetic_root
from segssl.detectron2.distributed import DistributedTrainer, launch
from segssl.io.atomic import atomic_write_text


class Trainer(DistributedTrainer):

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        evaluator_type = MetadataCatalog.get(dataset_name).get('evaluator_type')
        if evaluator_type != 'coco':
            raise NotImplementedError(f'no evaluator for dataset {dataset_name!r} of type {evaluator_type!r}; '
                                      'this script evaluates COCO-format instance sets')
        output_folder = output_folder or os.path.join(cfg.OUTPUT_DIR, 'inference')
        # The fast evaluator is compiled C++; without detectron2._C go through pycocotools.
        return COCOEvaluator(dataset_name, output_dir=output_folder, use_fast_impl=not segssl_d2.USING_PLACEHOLDER)


def load_config(args):
    return load_config_and_norm_changes(args)[0]


def load_config_and_norm_changes(args):
    """The frozen config and the SyncBN -> BN / naiveSyncBN changes made for this world size."""
    cfg = get_cfg()
    add_segssl_config(cfg)
    merge_config_file(cfg, args.config_file)
    cfg.merge_from_list(args.opts)
    if resolve_device(cfg):
        logging.getLogger('segssl').warning('MODEL.DEVICE cuda: no CUDA device here, running on the CPU')
    norm_changes = resolve_sync_bn(cfg, comm.get_world_size())
    if not args.eval_only:  # --eval-only loads a trained model, whatever its initialisation
        check_init(cfg, resume=args.resume)
    cfg.freeze()
    return cfg, norm_changes


def setup(args):
    cfg, norm_changes = load_config_and_norm_changes(args)
    if any(n.startswith(SYNTHETIC_COCO) for n in cfg.DATASETS.TRAIN + cfg.DATASETS.TEST):
        register_synthetic_coco(cfg.SEGSSL.SYNTHETIC_ROOT, cfg.SEGSSL.LABEL_SPLIT)
    if cfg.SEGSSL.COCO_SUBSET.DIR:
        register_coco_subsets(cfg.SEGSSL.COCO_SUBSET.DIR, cfg.SEGSSL.COCO_SUBSET.NAME)
    default_setup(cfg, args)
    if norm_changes:
        logging.getLogger('detectron2').info(
            describe_sync_bn_changes(norm_changes, comm.get_world_size(), cfg.MODEL.DEVICE))
    return cfg


def build_trainer(cfg, resume):
    """The Trainer with its weights loaded: OUTPUT_DIR's last checkpoint when ``resume`` and
    one exists (training continues at its iteration + 1), else MODEL.WEIGHTS."""
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=resume)
    return trainer


def save_results(cfg, results):
    """Write the evaluation results to OUTPUT_DIR/eval_results.json (NaN, e.g. APl on a set
    without large objects, as null)."""
    if comm.is_main_process() and results:
        path = os.path.join(cfg.OUTPUT_DIR, 'eval_results.json')
        clean = {task: {k: (None if v != v else v) for k, v in metrics.items()} for task, metrics in results.items()}
        atomic_write_text(path, json.dumps(clean, indent=1))
        logging.getLogger('detectron2').info(f'evaluation results written to {path}')


def main(args):
    cfg = setup(args)
    if args.eval_only:
        model = Trainer.build_model(cfg)
        DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(cfg.MODEL.WEIGHTS, resume=args.resume)
        res = Trainer.test(cfg, model)
        if comm.is_main_process():
            verify_results(cfg, res)
        save_results(cfg, res)
        return res
    trainer = build_trainer(cfg, args.resume)
    trainer.train()
    # DefaultTrainer.train() returns the results only when TEST.EXPECTED_RESULTS is set.
    res = getattr(trainer, '_last_eval_results', None)
    save_results(cfg, res)
    return res


if __name__ == '__main__':
    parser = default_argument_parser()
    args = parser.parse_args()
    print('Command Line Args:', args)
    cfg = load_config(args)
    problem = missing_synthetic_root(cfg)  # before any process starts or OUTPUT_DIR is made
    if problem:
        parser.exit(2, f'train_net.py: error: {problem}\n')
    # --num-gpus N with MODEL.DEVICE cpu: N CPU processes (gloo); otherwise detectron2's launch
    launch(main, args.num_gpus, num_machines=args.num_machines, machine_rank=args.machine_rank, dist_url=args.dist_url,
           args=(args, ), device=cfg.MODEL.DEVICE)
