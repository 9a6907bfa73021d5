# The ClassMix/DACS thesis, Table 5.2 "IntraMix" (35.08 mIoU): DACS's pipeline with ClassMix inside the target
# batch only (masks from the target pseudo-labels), no cross-domain mixing.
_base_ = ['./dacs_deeplabv2_r101-d8_1xb2_gta5-to-cityscapes-512x512_250k.py']

model = dict(mode='intra')
