# The ClassMix/DACS thesis's ClassMix around its DeepLab-v2 (deeplabv2_r101-d8.py, the student): EMA teacher
# (alpha 0.99 with warm-up), ClassMix masks (half the predicted classes), argmax pseudo-labels,
# threshold-proportional weight (tau = 0.968, lambda_u0 = 1), cross entropy, no extra
# augmentation. Each option is one field; the Table 5.1 configs change one of them.
_base_ = ['./deeplabv2_r101-d8.py']

model = dict(
    _delete_=True,
    type='ClassMixSegmentor',
    segmentor={{_base_.model}},
    mix=dict(type='classmix', proportion=0.5),
    alpha=0.99,
    weight=dict(scheme='threshold_proportion', tau=0.968, base=1.0),
    unsup_loss='ce',
    soft_targets=False,
    strong_aug=None,
    eval_model='student',
    seed=0)
# Multi-process runs: BN layers become SyncBN (mmengine / SegsslRunner apply this only when
# distributed). With per-process BN, each rank's student has its own running statistics and the
# EMA copies them into the eval-mode teacher, so the teachers (and their pseudo-labels) diverge
# across ranks (tests/test_classmix_distributed.py); the report trains on one GPU.
sync_bn = 'torch'
