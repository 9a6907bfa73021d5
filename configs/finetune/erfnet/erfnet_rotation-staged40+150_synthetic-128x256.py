# Synthetic twin of erfnet_rotation-staged40+150_1xb20_cityscapes-512x1024.py: encoder frozen for 40
# iterations, then everything for 150 more.
_base_ = ['./erfnet_rotation_synthetic-128x256.py']

frozen_iters = 40
max_iters = frozen_iters + 150
custom_hooks = [dict(type='StagedFineTuneHook', frozen=frozen_iters, by_epoch=False,
                     frozen_prefixes=('backbone.encoder.',), freeze_norm_stats=True)]
# multi-GPU: the frozen encoder gets no gradient, which DDP must be told about
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
