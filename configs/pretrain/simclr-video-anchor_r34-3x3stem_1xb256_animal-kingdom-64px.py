# The SimCLR report's anchor approach ("Video T"): per video an anchor frame x_0 and the p frames after it
# (same 64 px frame folders as the "Videos" row), each augmented like a SimCLR view, loss
# sum_i lambda_i NT-Xent(z_0, z_i). The report gives neither p nor lambda_i (only lambda_i in [0, 1],
# weighting frames further from the anchor more): p = 3 and lambda_i = i / p are our defaults.
_base_ = ['./simclr_r34-3x3stem_1xb256_animal-kingdom-frames-64px.py']

num_frames = 3
model = dict(type='VideoAnchorSimCLR', num_frames=num_frames, frame_weights='linear',
             data_preprocessor=dict(type='PixelViewsDataPreProcessor', num_views=num_frames + 1))
clip_pipeline = [
    dict(type='SampleFrameClip', num_frames=num_frames, frame_interval=1),
    dict(type='FrameClipViews', size=64, scale=(0.08, 1.0), flip_prob=0.5,
         color=dict(jitter_prob=0.8, brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2,
                    grayscale_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0), blur_kernel_size=7,
                    solarize_prob=0.0)),
    dict(type='PackFrameClip'),
]
train_dataloader = dict(dataset=dict(_delete_=True, type='FrameFolderDataset',
                                     data_root='data/animal_kingdom_frames/',
                                     data_prefix=dict(img_path=''), min_frames=num_frames + 1,
                                     pipeline=clip_pipeline))
