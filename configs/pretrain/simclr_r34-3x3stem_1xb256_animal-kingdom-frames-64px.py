# The SimCLR report's first video approach ("Videos"): frames sampled every 100 frames of the Animal
# Kingdom videos, resized to 64 x 64, used as independent images for plain SimCLR (blur on).
# Layout: data/animal_kingdom_frames/<video>/*.jpg (any depth; every image is one sample).
_base_ = ['./simclr_r34-3x3stem_1xb256_inat-animals-64px.py']

train_dataloader = dict(dataset=dict(data_root='data/animal_kingdom_frames/',
                                     data_prefix=dict(img_path='')))
