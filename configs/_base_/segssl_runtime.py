# segssl's runtime: mmseg's default runtime run by SegsslRunner (segssl.mmseg.distributed).
# Inherit it instead of 'mmseg::_base_/default_runtime.py'. SegsslRunner is mmengine's Runner,
# plus:
#   - distributed training on CPUs under torchrun (gloo, SyncBN through all-reduces, DDP
#     without device_ids); on GPUs it is mmengine's path unchanged;
#   - default hooks added unless the config sets them (or sets them to None):
#     non_finite_loss=NonFiniteLossHook(action='stop') - a NaN/inf loss term stops training,
#       naming the iteration and the term (action='skip' with optim_wrapper
#       type='NonFiniteSkipOptimWrapper' skips the step instead);
#     random_state=RandomStateHook() - the torch RNG state travels in checkpoints, so --resume
#       continues exactly;
#   - a checkpoint hook of type 'CheckpointHook' runs as AtomicCheckpointHook (same arguments):
#     written atomically, the retired checkpoint deleted only after the new one exists.
_base_ = ['mmseg::_base_/default_runtime.py']
runner_type = 'SegsslRunner'
