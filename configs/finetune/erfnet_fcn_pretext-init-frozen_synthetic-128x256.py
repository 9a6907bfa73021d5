# The frozen-encoder measurement of erfnet_fcn_pretext-init_synthetic-128x256.py (#22): ERFNet's
# encoder (layers 1-16, `backbone.encoder.*`, its BN statistics included) stays frozen for the whole
# run by the ERFNet thesis's StagedFineTuneHook (its staged fine-tuning, with the unfrozen stage left
# out); only ERFNet's decoder and the FCN head train. It shows what the pretext encoder itself holds.
# A run with another length sets both: train_cfg.max_iters=N custom_hooks.0.frozen=N
# (tools/run_pretext_transfer.py does).
_base_ = ['./erfnet_fcn_pretext-init_synthetic-128x256.py']

custom_hooks = [dict(type='StagedFineTuneHook', frozen={{_base_.max_iters}}, by_epoch=False,
                     frozen_prefixes=('backbone.encoder.',), freeze_norm_stats=True)]
# multi-GPU: the frozen encoder gets no gradient, which DDP must be told about
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
