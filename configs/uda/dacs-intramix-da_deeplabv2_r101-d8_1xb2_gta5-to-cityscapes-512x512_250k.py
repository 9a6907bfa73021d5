# The ClassMix/DACS thesis, Table 5.2 "Distribution Aligned IntraMix" (48.04 mIoU): IntraMix with the teacher's
# probabilities aligned (EMA 0.99 of its pseudo-label class frequencies) toward the Cityscapes
# train class distribution, which the report computed from Cityscapes' ground truth:
#   python tools/class_distribution.py data/cityscapes/gtFine/train -o work_dirs/priors/cityscapes_train.json
_base_ = ['./dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py']

target_prior = '{{$SEGSSL_TARGET_PRIOR:work_dirs/priors/cityscapes_train.json}}'
model = dict(mode='intra_aligned', alignment=dict(_delete_=True, prior=target_prior, momentum=0.99))
