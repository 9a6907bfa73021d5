# CPU-sized twin of the SimCLR report anchor config: synthetic frame folders (segssl.synthetic.
# generate_frame_folders: shifted crops of one scene per video) under SEGSSL_FRAMES_ROOT,
# ResNet-18 with the 3x3 stem, 32 px frames (blur off), anchor + 3 frames, lambda_i = i / 3.
_base_ = ['./simclr-video-anchor_r34-3x3stem_1xb256_animal-kingdom-64px.py']

num_frames = 3
model = dict(backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True)),
             projector=dict(hidden_channels=256, out_channels=64))
clip_pipeline = [
    dict(type='SampleFrameClip', num_frames=num_frames, frame_interval=1),
    dict(type='FrameClipViews', size=32, scale=(0.2, 1.0), flip_prob=0.5,
         color=dict(blur_prob=0.0)),
    dict(type='PackFrameClip'),
]
train_dataloader = dict(
    batch_size=8, num_workers=2, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='{{$SEGSSL_FRAMES_ROOT:data/synthetic_frames}}', pipeline=clip_pipeline))
max_iters = 40
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=4),
    dict(type='CosineRestartLR', periods=[18, 18], restart_weights=[1.0, 1.0], eta_min=0.0,
         by_epoch=False, begin=4, end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
randomness = dict(seed=0)
default_hooks = dict(logger=dict(interval=1, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
# the CPU twin states its own batch (one process); the real-data parent holds the report's
auto_scale_lr = dict(enable=False, base_batch_size=8)
