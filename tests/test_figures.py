"""Qualitative figures (issue 11): the PixPro pixel pairs drawn are exactly the positive pairs of
the two views (against a brute-force matching computed here from the recorded boxes and flips);
the prediction grid's panels are the model's argmax (through mmseg's test_step, not the
inference API the grid uses) in the dataset's palette; the ClassMix visualization hook saves
the step of the iterations it is due at, as a PNG and through the runner's visualizer (the same
pixels in LocalVisBackend's vis_image/), and its mixed-image panel is M a + (1 - M) b."""
import importlib.util
import os

import cv2
import numpy as np
import pytest
import torch
from conftest import ROOT, skip_without_mmseg

skip_without_mmseg()

PRETRAIN = os.path.join(ROOT, 'configs', 'pretrain', 'pixpro_r18-d16_localppm5-mbn-erase_synthetic.py')
QUICKSTART = os.path.join(ROOT, 'configs', 'quickstart', 'fcn_r18-d8_synthetic-128x256.py')
CLASSMIX = os.path.join(ROOT, 'configs', 'semi', 'classmix_deeplabv2_r18-d8_synthetic-1-8_64x128.py')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'tools', f'{name}.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def brute_force_pairs(boxes, flips, feat, tau=0.7):
    """Positive (i, j) from the bins' original-image centres, written out per bin."""
    centres, diags = [], []
    for (x1, y1, x2, y2), flip in zip(boxes, flips):
        bw, bh = (x2 - x1) / feat, (y2 - y1) / feat
        pts = []
        for r in range(feat):
            for c in range(feat):
                x = x2 - (c + 0.5) * bw if flip else x1 + (c + 0.5) * bw
                pts.append((x, y1 + (r + 0.5) * bh))
        centres.append(pts)
        diags.append((bw**2 + bh**2)**0.5)
    radius = tau * max(diags)
    return {(i, j)
            for i, p in enumerate(centres[0])
            for j, q in enumerate(centres[1]) if ((p[0] - q[0])**2 + (p[1] - q[1])**2)**0.5 <= radius}


def test_pixel_pair_figure_draws_exactly_the_positive_pairs(synthetic_root, tmp_path, capsys):
    from mmengine.config import Config

    from segssl.mmseg.pixpro_views import pipeline_transform, two_views, view_pairs
    from segssl.runs.figures import bin_centres_in_view, plot_pixel_pairs
    image = os.path.join(synthetic_root, 'cityscapes', 'leftImg8bit', 'train', 'synth',
                         'synth_000000_000000_leftImg8bit.png')
    crop = pipeline_transform(Config.fromfile(PRETRAIN), 'TwoViewCrop')
    assert crop['size'] == 112
    img = cv2.imread(image)
    seen_flip = False
    for seed in (0, 1):  # seed 1: view 1 flipped, view 2 not
        res = two_views(img, crop, seed)
        boxes, flips = res['view_boxes'].tolist(), res['view_flips'].tolist()
        seen_flip |= flips[0] != flips[1]
        want = brute_force_pairs(boxes, flips, 7)
        pairs = view_pairs(res, (7, 7)).numpy()
        assert {tuple(ij) for ij in np.argwhere(pairs)} == want and len(want) > 20
        out = tmp_path / f'pairs{seed}.png'
        segments = plot_pixel_pairs(res['views'][0][:, :, ::-1], res['views'][1][:, :, ::-1], pairs, str(out),
                                    image=img[:, :, ::-1], boxes=res['view_boxes'], flips=flips)
        assert segments.shape == (len(want), 2, 2)
        # map each drawn segment back to its bins: start in view 1, end in view 2 (shifted 112 + 16)
        centres = bin_centres_in_view((7, 7), (112, 112))
        drawn = {(int(np.argmin(np.abs(centres - s[0]).sum(1))),
                  int(np.argmin(np.abs(centres + [128, 0] - s[1]).sum(1))))
                 for s in segments}
        assert drawn == want
        assert centres[8].tolist() == [1.5 * 16, 1.5 * 16]  # bin (1, 1) centre in view px
        assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert seen_flip
    # the tool: same seed, same pairs, PNG written
    out = tmp_path / 'tool.png'
    assert load_tool('plot_pixel_pairs').main([image, '--out', str(out), '--seed', '1']) == 0
    assert capsys.readouterr().out.startswith(f'{len(want)} positive pairs between 7x7 bins (tau 0.7)')
    assert out.stat().st_size > 1000


def test_prediction_grid_panels_are_the_models_argmax_in_the_palette(synthetic_root, tmp_path, monkeypatch, capsys):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmseg.apis import init_model
    from mmseg.registry import DATASETS

    from segssl.mmseg.run_inference import dataset_samples, predict_labels, resolve_run
    from segssl.runs.figures import plot_prediction_grid
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    torch.manual_seed(0)
    model = init_model(QUICKSTART, None, device='cpu')  # random init, saved as a checkpoint
    ckpt = tmp_path / 'work' / 'iter_1.pth'
    ckpt.parent.mkdir()
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    cfg = Config.fromfile(QUICKSTART)
    samples, meta = dataset_samples(cfg, 2)
    assert len(samples) == 2 and samples[0]['image'].shape == (64, 128, 3)
    preds = predict_labels(QUICKSTART, str(ckpt), [s['img_path'] for s in samples])
    panels = plot_prediction_grid([s['image'] for s in samples], [s['gt'] for s in samples], {
        'a': preds,
        'b': preds
    }, meta['palette'], str(tmp_path / 'grid.png'))
    assert len(panels) == 2 and len(panels[0]) == 4 and os.path.getsize(tmp_path / 'grid.png') > 1000
    # reference: mmseg's test_step on the config's own val dataset, colourised pixel by pixel
    model.eval()
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    palette = meta['palette']
    assert palette[0] == [128, 64, 128] and palette[13] == [0, 0, 142]  # Cityscapes' road, car
    for row in range(2):
        with torch.no_grad():
            ref = model.test_step(pseudo_collate([ds[row]]))[0].pred_sem_seg.data[0].numpy()
        gt = cv2.imread(ds[row]['data_samples'].seg_map_path, cv2.IMREAD_UNCHANGED)
        for col, labels in ((1, gt), (2, ref), (3, ref)):
            want = np.zeros(labels.shape + (3, ), np.uint8)
            for y in range(labels.shape[0]):
                for x in range(labels.shape[1]):
                    if labels[y, x] < len(palette):
                        want[y, x] = palette[labels[y, x]]
            assert np.array_equal(panels[row][col], want), (row, col)
        assert np.array_equal(panels[row][0], cv2.imread(samples[row]['img_path'])[:, :, ::-1])
    # the tool, with one run given as a work dir (its dumped config + last_checkpoint)
    cfg.dump(str(tmp_path / 'work' / 'fcn.py'))
    (tmp_path / 'work' / 'last_checkpoint').write_text(str(ckpt))
    assert resolve_run([str(tmp_path / 'work')]) == (str(tmp_path / 'work' / 'fcn.py'), str(ckpt))
    out = tmp_path / 'tool.png'
    tool = load_tool('plot_predictions')
    assert tool.main(['--out', str(out), '--num', '1', '--run', 'dir', str(tmp_path / 'work')]) == 0
    assert '1 images x 1 runs' in capsys.readouterr().out and out.stat().st_size > 1000
    assert resolve_run([QUICKSTART, str(ckpt)]) == (QUICKSTART, str(ckpt))
    with pytest.raises(FileNotFoundError, match='no_such.pth'):
        resolve_run([QUICKSTART, str(tmp_path / 'no_such.pth')])


def test_predictions_of_a_classmix_checkpoint_are_its_students(synthetic_root, tmp_path, monkeypatch):
    """mmseg's init_model cannot build the ClassMix wrapper: the grid reads its student (the model
    it evaluates with) from the checkpoint; the teacher is made to predict differently here."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS, MODELS

    from segssl.mmseg.run_inference import predict_labels
    monkeypatch.setenv('SEGSSL_DATA_ROOT', synthetic_root)
    cfg = Config.fromfile(CLASSMIX)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        for p in model.teacher.parameters():
            p.add_(torch.randn_like(p))
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp_path / 'cm.pth')
    model.eval()
    sample = DATASETS.build(cfg.val_dataloader.dataset)[0]
    with torch.no_grad():
        student = model.test_step(pseudo_collate([sample]))[0].pred_sem_seg.data[0].numpy()
        model.eval_model = 'teacher'
        teacher = model.test_step(pseudo_collate([sample]))[0].pred_sem_seg.data[0].numpy()
    assert not np.array_equal(student, teacher)
    pred = predict_labels(CLASSMIX, str(tmp_path / 'cm.pth'), [sample['data_samples'].img_path])[0]
    assert np.array_equal(pred, student)
    torch.save({'state_dict': {'backbone.x': torch.zeros(1)}}, tmp_path / 'bad.pth')
    with pytest.raises(KeyError, match='no student'):
        predict_labels(CLASSMIX, str(tmp_path / 'bad.pth'), [])


def test_mix_visualization_hook_saves_the_due_step_and_its_mixed_panel_is_the_mix(synthetic_root, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from segssl.data.splits import list_train_ids, write_splits
    root = os.path.join(synthetic_root, 'cityscapes')
    write_splits(str(tmp_path / 'splits'), 'cityscapes', list_train_ids('cityscapes', root), seed=0)
    os.environ['SEGSSL_DATA_ROOT'] = synthetic_root
    try:
        cfg = Config.fromfile(CLASSMIX)
    finally:
        del os.environ['SEGSSL_DATA_ROOT']
    cfg.merge_from_dict({
        'train_dataloader.dataset.labelled.ann_file': f'{tmp_path}/splits/1-2/labelled.txt',
        'train_dataloader.dataset.unlabelled.ann_file': f'{tmp_path}/splits/1-2/unlabelled.txt',
        'train_dataloader.batch_size': 2,
        'train_cfg.max_iters': 2,
        'train_cfg.val_interval': 100,
        'param_scheduler.0.end': 2,
        'default_hooks.checkpoint.interval': 100,
        'model.weight.tau': 0.05
    })
    cfg.custom_hooks = [dict(type='MixVisualizationHook', interval=2, sample=1)]
    cfg.work_dir = str(tmp_path / 'work')
    cfg.visualizer.name = 'mix_hook_figure'  # mmengine reuses a visualizer by name: this run's own
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'MixVisualizationHook')
    assert os.path.isfile(tmp_path / 'work' / 'vis_mix' / 'iter_2.png')
    assert not os.path.exists(tmp_path / 'work' / 'vis_mix' / 'iter_1.png')  # k = 2: only iteration 2
    # the same figure through the visualizer: LocalVisBackend's vis_image/<name>_<step>.png, pixel for pixel
    vis_image = os.path.join(runner.log_dir, 'vis_data', 'vis_image')
    assert os.listdir(vis_image) == ['mix_step_2.png']
    saved = cv2.imread(str(tmp_path / 'work' / 'vis_mix' / 'iter_2.png'))
    assert np.array_equal(cv2.imread(os.path.join(vis_image, 'mix_step_2.png')), saved) and saved.shape[0] > 50
    p, last = hook.last_panels, hook.last
    assert last['sample'] == 1 and last['inputs'].shape[0] == 2
    mask = p['mask'] == 255
    assert 0 < mask.mean() < 1
    assert np.array_equal(p['mixed image'], np.where(mask[..., None], p['image a'], p['image b']))
    # the panels are the logged step's tensors: image a = x_u[1], image b = x_u[0] (1 + 1 mod 2)
    dp = runner.model.data_preprocessor
    rgb = (dp.to_rgb01(last['inputs']).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.array_equal(p['image a'], rgb[1]) and np.array_equal(p['image b'], rgb[0])
    assert np.array_equal(mask, last['masks'][1].numpy())
    m = last['masks'][1][None].float()
    want = m * last['inputs'][1] + (1 - m) * last['inputs'][0]
    assert torch.allclose(last['mixed'][1], want)
    assert np.array_equal(p['weight'], last['weights'][1].numpy())
    assert 0 < p['weight'].max() <= 1


def test_mix_visualization_hook_reads_an_intermix_and_skips_what_it_cannot_explain(tmp_path):
    """DACS' InterMix (source b pasted on target b, masks not from make_masks): the mask drawn is
    the one the kept MixStep carries, the one used; a mix its record does not explain is logged and
    skipped, not fatal; a model without mix_batch is named at the start of training."""
    from types import SimpleNamespace

    from segssl.core import MixedBatch, MixStep
    from segssl.mmseg.mix_visualization_hook import MixVisualizationHook

    class InterMixLike(torch.nn.Module):
        scramble, keep_last_mix, last_mix = False, False, None

        def __init__(self):
            super().__init__()
            self.data_preprocessor = SimpleNamespace(to_rgb01=lambda x: x.flip(1))  # BGR [0, 1] -> RGB

        def make_masks(self, pseudo):
            raise AssertionError('not called')

        def mix_batch(self, inputs, pseudo_labels, probs, weights, labelled):
            self.used = torch.rand(inputs[:, 0].shape, generator=torch.Generator().manual_seed(1)) < 0.4
            m = self.used[:, None]
            mixed = torch.where(m, labelled['inputs'], inputs)
            labels = torch.where(self.used, labelled['labels'], pseudo_labels)
            out = MixedBatch((mixed.flip(0) if self.scramble else mixed), labels, torch.where(self.used, 1.0, weights),
                             self.used)
            if self.keep_last_mix:  # what ClassMixSegmentor.loss keeps
                self.last_mix = MixStep(out, inputs, labelled, 'labelled')
            return out

    model, logs, images = InterMixLike(), [], []
    runner = SimpleNamespace(model=model, iter=0, work_dir=str(tmp_path),
                             logger=SimpleNamespace(warning=logs.append, info=logs.append),
                             visualizer=SimpleNamespace(add_image=lambda *a, **k: images.append((a, k))))
    hook = MixVisualizationHook(interval=1, sample=1, palette=[[0, 0, 0], [255, 0, 0]])
    hook.before_train(runner)
    g = torch.Generator().manual_seed(0)
    source, target = torch.rand(2, 3, 8, 12, generator=g), torch.rand(2, 3, 8, 12, generator=g)
    labels, pseudo = torch.zeros(2, 8, 12, dtype=torch.long), torch.ones(2, 8, 12, dtype=torch.long)
    hook.before_train_iter(runner, 0)
    out = model.mix_batch(target, pseudo, None, torch.full((2, 8, 12), 0.5), dict(inputs=source, labels=labels))
    assert torch.equal(out[0], torch.where(model.used[:, None], source, target))  # passed through unchanged
    hook.after_train_iter(runner, 0)
    assert os.path.isfile(tmp_path / 'vis_mix' / 'iter_1.png')
    # the saved PNG (RGB) went to the visualizer once, as image 'mix_step' at step 1
    (((name, figure), kwargs), ) = images
    assert name == 'mix_step' and kwargs == dict(step=1)
    assert np.array_equal(figure, cv2.imread(str(tmp_path / 'vis_mix' / 'iter_1.png'))[..., ::-1])
    p = hook.last_panels
    assert np.array_equal(p['mask'] == 255, model.used[1].numpy()) and 0 < model.used[1].float().mean() < 1
    to_u8 = lambda x: (x.flip(0).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()  # noqa: E731
    assert np.array_equal(p['image a'], to_u8(source[1])) and np.array_equal(p['image b'], to_u8(target[1]))
    assert np.array_equal(p['mixed image'], np.where(p['mask'][..., None] == 255, p['image a'], p['image b']))
    assert np.array_equal(p['weight'], np.where(model.used[1].numpy(), 1.0, 0.5))
    assert np.array_equal(p['pseudo-label'][model.used[1].numpy()][0], [0, 0, 0])
    # a mix neither pairing explains: a warning, nothing saved
    model.scramble, runner.iter = True, 1
    hook.before_train_iter(runner, 1)
    model.mix_batch(target, pseudo, None, torch.full((2, 8, 12), 0.5), dict(inputs=source, labels=labels))
    hook.after_train_iter(runner, 1)
    assert 'nothing saved' in logs[-1] and not os.path.exists(tmp_path / 'vis_mix' / 'iter_2.png')
    assert len(images) == 1  # nor sent to the visualizer
    with pytest.raises(TypeError, match='has no mix_batch'):
        MixVisualizationHook(interval=1).before_train(SimpleNamespace(model=torch.nn.Linear(1, 1)))
    with pytest.raises(ValueError, match='interval=0'):
        MixVisualizationHook(interval=0)
