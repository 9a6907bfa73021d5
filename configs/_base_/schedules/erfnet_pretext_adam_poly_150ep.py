# The ERFNet thesis's pretext-task schedule (4.2): Adam, lr 5e-4, polynomial decay per epoch
# lr = base_lr * (1 - epoch / max_epochs) ** 0.9. The report does not give the pretext tasks'
# epoch count (it trains each to its best validation accuracy; rotation converges in < 10
# epochs): 150, ERFNet's usual schedule and the report's fine-tuning length, is our default.
max_epochs = 150
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999),
                                                         weight_decay=0))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_epochs,
                        by_epoch=True, convert_to_iter_based=False)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
randomness = dict(seed=0)
