# The ClassMix/DACS thesis's DACS around its DeepLab-v2 (deeplabv2_r101-d8.py, the student): EMA teacher (alpha
# 0.99 with warm-up), InterMix (half of the SOURCE ground-truth classes pasted onto the target),
# argmax pseudo-labels, source pixels weight 1 and target pixels the threshold-proportional weight
# (tau = 0.968), cross entropy, colour jitter (p 0.8, 0.25) + Gaussian blur (p 0.5, sigma
# U(0.15, 1.15), kernel 1/10 of the image) on the mixed image. Each option is one field; the
# ablation configs (Table 5.2) change `mode`.
_base_ = ['./deeplabv2_r101-d8.py']

model = dict(
    _delete_=True,
    type='DACSSegmentor',
    segmentor={{_base_.model}},
    mode='inter',
    proportion=0.5,
    alignment=None,
    alpha=0.99,
    weight=dict(scheme='threshold_proportion', tau=0.968, base=1.0),
    unsup_loss='ce',
    strong_aug=dict(jitter_p=0.8, jitter_strength=0.25, blur_p=0.5, blur_sigma=(0.15, 1.15),
                    blur_kernel_fraction=0.1),
    eval_model='student',
    seed=0)
# Multi-process runs: BN layers become SyncBN (applied only when distributed), so every rank's
# EMA teacher gets the same BN statistics, as for ClassMix (tests/test_classmix_distributed.py).
sync_bn = 'torch'
