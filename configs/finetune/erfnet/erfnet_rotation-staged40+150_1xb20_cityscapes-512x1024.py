# The ERFNet thesis Table 5.4: rotation encoder loaded, encoder frozen for 40 epochs (decoder and last
# layer train), then the whole network for 150 more epochs (190 in all). One poly schedule
# over the 190 epochs: the report does not say whether the schedule restarts at the unfreezing.
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

frozen_epochs = 40
max_epochs = frozen_epochs + 150
custom_hooks = [dict(type='StagedFineTuneHook', frozen=frozen_epochs, by_epoch=True,
                     frozen_prefixes=('backbone.encoder.',), freeze_norm_stats=True)]
# multi-GPU: the frozen encoder gets no gradient, which DDP must be told about
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)]
