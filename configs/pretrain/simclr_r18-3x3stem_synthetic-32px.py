# CPU-sized twin of the SimCLR report SimCLR configs on segssl's synthetic set: ResNet-18 with the
# 3x3 stride-1 stem, 32 px views (blur off, as CIFAR-10), Adam + warm-up + cosine restarts in
# iterations. Then:
#   python tools/convert_checkpoint.py WORK_DIR/iter_40.pth work_dirs/pretrained/r18_3x3_mmseg.pth --to mmseg
#   SEGSSL_BACKBONE=work_dirs/pretrained/r18_3x3_mmseg.pth python tools/train.py configs/finetune/fcn_r18-3x3stem_synthetic-128x256.py
_base_ = ['./simclr_r34-3x3stem_1xb256_cifar10-32px.py']

model = dict(backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True)),
             projector=dict(hidden_channels=256, out_channels=64))
train_dataloader = dict(
    batch_size=16, num_workers=2, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='{{$SEGSSL_DATA_ROOT:data/synthetic}}/cityscapes/',
                 data_prefix=dict(img_path='leftImg8bit/train')))
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
auto_scale_lr = dict(enable=False, base_batch_size=16)
