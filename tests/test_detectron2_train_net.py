"""The Mask R-CNN thesis through tools/train_net.py: Mask R-CNN (R18-FPN, the R18 twin of the R50 config, to
stay CPU-sized) from a converted segssl SSL checkpoint trains with periodic evaluation and writes
metrics.json; the backbone after loading equals the converted file; a run of 4 iterations
(checkpoint every 2) resumed with --resume and MAX_ITER 6 continues from its last checkpoint
(iteration count, weights, lr schedule).

The SSL checkpoint is a random segssl-format state dict (``online_backbone.`` / ``target_backbone.``
of two differently seeded torchvision ResNet-18s plus a projector), not a PixPro run: the bridge's
reading of real PixPro checkpoints is tested in test_pretrain_pixpro.py."""
import json
import math
import os
import textwrap

import pytest
from conftest import ROOT, run_tool

pytest.importorskip('detectron2', reason='detectron2 is installed by `make setup`')
CONFIG = os.path.join(ROOT, 'configs', 'detectron2', 'mask_rcnn_R_18_FPN_synthetic_ssl.yaml')
TINY = [
    'INPUT.MIN_SIZE_TRAIN', '(64,)', 'INPUT.MIN_SIZE_TEST', '64', 'SOLVER.WARMUP_ITERS', '1',
    'TEST.DETECTIONS_PER_IMAGE', '10', 'MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE', '32'
]


def run_snippet(code, tmp_path, name='snippet.py'):
    script = tmp_path / name
    script.write_text(textwrap.dedent(code))
    r = run_tool([str(script)], timeout=300)
    assert r.returncode == 0, r.stdout[-4000:]
    return r.stdout


@pytest.fixture(scope='module')
def ssl_pkl(tmp_path_factory):
    """A random segssl-format R18 SSL checkpoint converted to detectron2; returns (pkl, src)."""
    import torch
    import torchvision

    from segssl.convert.bridge import convert
    d = tmp_path_factory.mktemp('ssl')
    torch.manual_seed(1)
    online = torchvision.models.resnet18().state_dict()
    torch.manual_seed(2)
    target = torchvision.models.resnet18().state_dict()
    for k in online:  # non-trivial BN statistics, different in the two encoders
        if 'running' in k:
            online[k] = torch.rand_like(online[k]) + 0.5
            target[k] = torch.rand_like(target[k]) + 0.5
    sd = {f'online_backbone.{k}': v for k, v in online.items()}
    sd.update({f'target_backbone.{k}': v for k, v in target.items()})
    sd['projector.0.weight'] = torch.randn(8, 512)
    torch.save({'meta': {'iter': 5}, 'state_dict': sd}, d / 'ssl.pth')
    convert(str(d / 'ssl.pth'), str(d / 'ssl.pkl'), 'detectron2')
    return str(d / 'ssl.pkl'), str(d / 'ssl.pth')


@pytest.fixture(scope='module')
def trained_run(synthetic_root, ssl_pkl, tmp_path_factory):
    """4 iterations of the SSL-init config through the train_net.py command line on a seeded
    COCO subset of the synthetic train set registered by SEGSSL.COCO_SUBSET (3 train / 2 val
    images), evaluating every 2 iterations and checkpointing every 2; returns (output dir,
    CompletedProcess, the dataset options)."""
    from segssl.data.coco_subset import make_coco_subsets
    base = tmp_path_factory.mktemp('run')
    out = base / 'run'
    coco = os.path.join(synthetic_root, 'coco')
    make_coco_subsets(os.path.join(coco, 'annotations', 'instances_train.json'), str(base / 'subsets'), 'synsub', 3, 2,
                      1, seed=0, image_root=os.path.join(coco, 'train'))
    data = [
        'SEGSSL.COCO_SUBSET.DIR',
        str(base / 'subsets'), 'SEGSSL.COCO_SUBSET.NAME', 'synsub', 'DATASETS.TRAIN', '("synsub_train",)',
        'DATASETS.TEST', '("synsub_val",)'
    ]
    r = run_tool(['tools/train_net.py', '--config-file', CONFIG, 'MODEL.WEIGHTS', ssl_pkl[0]] + data + [
        'OUTPUT_DIR',
        str(out), 'SOLVER.MAX_ITER', '4', 'SOLVER.STEPS', '(2, 3)', 'SOLVER.CHECKPOINT_PERIOD', '2', 'TEST.EVAL_PERIOD',
        '2'
    ] + TINY)
    assert r.returncode == 0, r.stdout[-4000:]
    return out, r, data


def test_ssl_init_trains_and_evaluates_through_train_net(trained_run):
    out, r, _ = trained_run
    assert 'MODEL.RESNETS.NORM SyncBN -> BN' in r.stdout and 'MODEL.FPN.NORM SyncBN -> BN' in r.stdout
    recs = [json.loads(line) for line in open(out / 'metrics.json')]
    evals = [rec for rec in recs if 'segm/AP' in rec]
    # EvalHook: after iteration 1 (EVAL_PERIOD 2) and after training (the storage is then at MAX_ITER)
    assert [rec['iteration'] for rec in evals] == [1, 4]
    losses = [rec for rec in recs if 'total_loss' in rec]
    assert losses[-1]['iteration'] == 3
    for key in ('loss_box_reg', 'loss_cls', 'loss_mask', 'mask_rcnn/accuracy', 'mask_rcnn/false_positive',
                'mask_rcnn/false_negative'):
        assert math.isfinite(losses[-1][key]), key
    assert losses[-1]['lr'] == pytest.approx(0.01 * 0.1**2)  # after both steps (gamma 0.1)
    assert "Loaded 3 images in COCO format" in r.stdout and "Loaded 2 images in COCO format" in r.stdout
    res = json.load(open(out / 'eval_results.json'))
    assert res['segm']['AP'] == pytest.approx(evals[-1]['segm/AP'], nan_ok=True)
    assert 0 <= res['segm']['AP'] <= 100 and 0 <= res['bbox']['AP50'] <= 100
    assert os.path.isfile(out / 'model_0000001.pth') and os.path.isfile(out / 'model_0000003.pth')
    assert (out / 'last_checkpoint').read_text().strip() == 'model_final.pth'


def test_weights_load_and_run_resumes_from_last_checkpoint(synthetic_root, ssl_pkl, trained_run, tmp_path):
    """One process (to keep the test short): (a) the trainer train_net.py builds from the SSL
    config holds exactly the converted backbone; (b) --resume on the 4-iteration run with
    MAX_ITER 6 restores the last checkpoint's iteration, weights and scheduler, then trains on."""
    import torch
    pkl, src = ssl_pkl
    out, _, data = trained_run
    last = torch.load(out / 'model_final.pth', map_location='cpu')
    assert last['iteration'] == 3
    torch.save(last['model'], tmp_path / 'expected_model.pth')
    tools = os.path.join(ROOT, 'tools')
    fresh = [
        '--config-file', CONFIG, 'MODEL.WEIGHTS', pkl, 'SEGSSL.SYNTHETIC_ROOT', synthetic_root, 'OUTPUT_DIR',
        str(tmp_path / 'load')
    ] + TINY
    resume = ['--config-file', CONFIG, '--resume', 'MODEL.WEIGHTS', pkl] + data + [
        'OUTPUT_DIR',
        str(out), 'SOLVER.MAX_ITER', '6', 'SOLVER.STEPS', '(2, 3)', 'SOLVER.CHECKPOINT_PERIOD', '2', 'TEST.EVAL_PERIOD',
        '0'
    ] + TINY
    run_snippet(
        f'''
    import pickle, sys, torch
    sys.path.insert(0, {tools!r})
    import train_net
    from detectron2.engine import default_argument_parser

    def trainer_for(argv):
        args = default_argument_parser().parse_args(argv)
        cfg = train_net.setup(args)
        return cfg, train_net.build_trainer(cfg, resume=args.resume)

    # (a) backbone after loading == the converted file; SyncBN built as BN in one process
    cfg, trainer = trainer_for({fresh!r})
    conv = pickle.load(open({pkl!r}, 'rb'))['model']
    body = trainer.model.backbone.bottom_up.state_dict()
    keys = [k for k in body if not k.endswith('num_batches_tracked')]
    assert sorted('backbone.bottom_up.' + k for k in keys) == sorted(conv), 'key sets differ'
    for k in keys:
        assert torch.equal(body[k], torch.from_numpy(conv['backbone.bottom_up.' + k])), k
    src = torch.load({src!r})['state_dict']
    assert torch.equal(body['res3.0.conv2.norm.running_var'], src['online_backbone.layer2.0.bn2.running_var'])
    assert not torch.equal(body['stem.conv1.weight'], src['target_backbone.conv1.weight'])
    norms = {{type(m).__name__ for m in trainer.model.backbone.modules()}}
    assert 'BatchNorm2d' in norms and 'SyncBatchNorm' not in norms, norms
    assert cfg.MODEL.RESNETS.NORM == 'BN' and cfg.MODEL.FPN.NORM == 'BN'
    assert trainer.start_iter == 0

    # (b) resume: last checkpoint's weights (not MODEL.WEIGHTS), iteration + 1, scheduler
    cfg, trainer = trainer_for({resume!r})
    expected = torch.load({str(tmp_path / 'expected_model.pth')!r})
    state = trainer.model.state_dict()
    assert sorted(state) == sorted(expected)
    for k in state:
        assert torch.equal(state[k], expected[k]), k
    assert trainer.start_iter == 4, trainer.start_iter
    assert trainer.scheduler.last_epoch == 4, trainer.scheduler.last_epoch
    trainer.train()
    assert trainer.iter == 6

    # --eval-only of a trained scratch model: MODEL.WEIGHTS is not checked against SEGSSL.INIT
    scratch = {CONFIG.replace('_ssl', '_scratch')!r}
    weights = ['MODEL.WEIGHTS', {str(out / 'model_final.pth')!r}, 'OUTPUT_DIR', {str(tmp_path / 'ev')!r},
               'SEGSSL.SYNTHETIC_ROOT', {synthetic_root!r}]
    train_net.setup(default_argument_parser().parse_args(['--config-file', scratch, '--eval-only'] + weights))
    try:
        train_net.setup(default_argument_parser().parse_args(['--config-file', scratch] + weights))
    except ValueError as e:
        assert 'SEGSSL.INIT=scratch but MODEL.WEIGHTS=' in str(e)
    else:
        raise AssertionError('training a scratch config with weights was not refused')
    ''', tmp_path)
    final = torch.load(out / 'model_final.pth', map_location='cpu')
    assert final['iteration'] == 5
    recs = [json.loads(line) for line in open(out / 'metrics.json') if 'total_loss' in line]
    assert [rec['iteration'] for rec in recs] == [3, 5]  # the first run's last, then the resumed one's
    assert recs[-1]['lr'] == pytest.approx(0.01 * 0.1**2)
