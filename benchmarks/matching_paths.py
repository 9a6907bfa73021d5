#!/usr/bin/env python
"""Dense vs sparse positive-pair matching in PixPro's pixel consistency loss (forward + backward),
per map size, in one run: the ratio sparse / dense fixes ``DENSE_MAX_PAIRS`` (the default path,
``dense=None``, is dense up to it). Views: two random crops of a 224 px image, scale 0.3..1, one
flipped, as PixPro's; C = 256 features.

    python benchmarks/matching_paths.py [--threads 1] [--repeats 5] [--out FILE]
"""
import sys

import torch
from timing import benchmark_parser, timed, write_results

from segssl.core import lattice_from_boxes
from segssl.core.pixpro_loss import DENSE_MAX_PAIRS, pixel_consistency_loss

SIZES = ((7, 64), (14, 64), (18, 32), (21, 32), (24, 16), (28, 16), (56, 4))  # (map side, batch)


def crops(n, g, image=224.0):
    side = image * (0.3 + 0.7 * torch.rand(n, generator=g)).sqrt()
    x1 = (image - side) * torch.rand(n, generator=g)
    y1 = (image - side) * torch.rand(n, generator=g)
    return torch.stack([x1, y1, x1 + side, y1 + side], 1).double()


def case(side, batch, channels=256):
    g = torch.Generator().manual_seed(side)
    l1 = lattice_from_boxes(crops(batch, g), torch.zeros(batch, dtype=torch.bool), side, side)
    l2 = lattice_from_boxes(crops(batch, g), torch.ones(batch, dtype=torch.bool), side, side)
    maps = [torch.randn(batch, channels, side, side, generator=g) for _ in range(4)]
    return l1, l2, maps


def step(l1, l2, maps, dense):
    y1, t2, y2, t1 = (m.clone().requires_grad_(i % 2 == 0) for i, m in enumerate(maps))
    loss = pixel_consistency_loss(y1, t2, y2, t1, l1, l2, dense=dense)
    loss.backward()
    return loss


def main(argv=None):
    p = benchmark_parser(__doc__, 'matching_paths', repeats=5, threads=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for side, batch in SIZES:
        l1, l2, maps = case(side, batch)
        dense_loss, sparse_loss = step(l1, l2, maps, True), step(l1, l2, maps, False)
        assert torch.allclose(dense_loss, sparse_loss, rtol=1e-5, atol=1e-6), (side, dense_loss, sparse_loss)
        td = timed(lambda: step(l1, l2, maps, True), args.repeats)
        ts = timed(lambda: step(l1, l2, maps, False), args.repeats)
        pairs = (side * side)**2
        default = 'dense' if pairs <= DENSE_MAX_PAIRS else 'sparse'
        rows.append(f'| {side}x{side} | {batch} | {td * 1e3:.1f} | {ts * 1e3:.1f} | {ts / td:.2f} | '
                    f'{pairs * 4 * batch / 2 ** 20:.0f} | {default} |')
        print(rows[-1], flush=True)
    text = '\n'.join([
        '# Dense vs sparse matching in the pixel consistency loss (CPU)', '',
        f'Command: `python benchmarks/matching_paths.py --threads {args.threads} --repeats {args.repeats}` '
        f'(torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} after a warm-up; '
        'forward + backward of the symmetric loss, C = 256, two random crops of a 224 px image, scale '
        '0.3..1, one flipped). Both paths give the same loss (checked in the run). The dense matrix is '
        'float32 (N, HW, HW) per direction.', '',
        '| map | batch | dense ms | sparse ms | sparse / dense | dense matrix MB | default path |',
        '| --- | --- | ---: | ---: | ---: | ---: | --- |', *rows, '',
        f'Default (`dense=None`): dense while HW_a * HW_b <= DENSE_MAX_PAIRS = {DENSE_MAX_PAIRS} (21x21 maps: '
        'the crossover here). The sparse path sizes its window K on the host from the lattices\' CPU geometry '
        '(`matching_window`; a lattice moved with `FeatureLattice.to(device)` keeps it, as PixPro\'s model does), '
        'so neither path waits for the device; that sync was removed from the GPU path and cannot change CPU '
        'time, so it has no row here. On a GPU the dense matmul gains more; not measured (no GPU).', ''
    ])
    write_results(args.out, text)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
