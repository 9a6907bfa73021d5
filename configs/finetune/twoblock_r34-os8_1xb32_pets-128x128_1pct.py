# The SimCLR report's fine-tuning at 1 % of the labels (splits/1pct.txt from tools/make_pets_splits.py);
# everything else as twoblock_r34-os8_1xb32_pets-128x128_full.py.
_base_ = ['./twoblock_r34-os8_1xb32_pets-128x128_full.py']

label_fraction = '1pct'
train_dataloader = dict(dataset=dict(ann_file=f'splits/{label_fraction}.txt'))
