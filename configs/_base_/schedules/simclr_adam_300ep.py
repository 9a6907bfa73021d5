# The SimCLR report's optimisation: Adam, linear warm-up over the first 10 epochs, then cosine annealing
# with warm restarts every 50 epochs (SGDR), 300 epochs. The report gives no learning rate or
# weight decay: lr 3e-4 and weight decay 1e-6 are the usual Adam values of public SimCLR
# re-implementations (our default; change them here). Warm-up from lr/100 (our choice).
max_epochs = 300
warmup_epochs = 10
restart_every = 50
lr = 3e-4
_cycles = -(-(max_epochs - warmup_epochs) // restart_every)     # ceil
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=lr, weight_decay=1e-6))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    # PyTorch's CosineAnnealingWarmRestarts(T_0=50) after the warm-up: the last cycle is cut
    # at the end of training (290 = 5 x 50 + 40 epochs), not shortened
    dict(type='CosineRestartLR', periods=[restart_every] * _cycles, restart_weights=[1.0] * _cycles,
         eta_min=0.0, by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=50),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
