"""Each DeepSEA convolution's backward on the CPU, in the memory layouts PyTorch offers (issue 22).

For the three convolutions of the full-size network at one batch size, the median time of
``aten::convolution_backward`` (bias included; no input gradient for the first, whose input is
the data) computed:

- channels_last, as ``skdeepsea.layers.Conv1D`` computes narrow inputs;
- channels-first, as ``torch.nn.Conv1d`` (the PyTorch reference of ``bench_core.py``);
- input gradient channels_last and weight gradient from channels-first copies, as
  ``skdeepsea.layers.Conv1D`` computes inputs of ``WIDE_INPUT_CHANNELS`` or more on a CPU;
- everything from channels-first copies;

and the forward in the first two layouts. It says which oneDNN kernel is faster on this CPU; it
has no target. Run from the repository root::

    python benchmarks/profile_conv_backward.py [--batch 64] [--repeats 9]
"""

import argparse
import os
import time

import torch

# DeepSEA's convolutions: input channels, filters, input length, whether the input needs a gradient.
CONVOLUTIONS = [(4, 320, 1000, False), (320, 480, 248, True), (480, 960, 60, True)]
WIDTH = 8


def median_ms(fn, repeats):
    fn()  # warm-up: oneDNN builds its primitive on the first call
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[len(times) // 2]


def backward(grad, x, kernel, mask):
    n_spatial = x.dim() - 2
    return torch.ops.aten.convolution_backward(
        grad, x, kernel, [kernel.shape[0]], [1] * n_spatial, [0] * n_spatial, [1] * n_spatial,
        False, [0] * n_spatial, 1, mask)


def measure(channels, filters, length, input_grad, batch, repeats):
    x = torch.randn(batch, length, channels)  # the network's (n, L, C) activations
    kernel = torch.randn(filters, channels, WIDTH) * 0.05
    bias = torch.zeros(filters)
    mask = [input_grad, True, True]
    x_last = x.permute(0, 2, 1).unsqueeze(2)  # (n, C, 1, L), channels_last: no copy
    kernel_last = kernel.unsqueeze(2).contiguous(memory_format=torch.channels_last)
    grad_last = torch.randn_like(torch.nn.functional.conv2d(x_last, kernel_last, bias))
    grad_last = grad_last.contiguous(memory_format=torch.channels_last)
    x_first = x.permute(0, 2, 1).contiguous()
    grad_first = torch.randn_like(torch.nn.functional.conv1d(x_first, kernel, bias))

    def split():
        if input_grad:
            backward(grad_last, x_last, kernel_last, [True, False, False])
        backward(grad_last.contiguous(), x_last.contiguous(), kernel_last.contiguous(),
                 [False, True, True])

    return {
        "backward_channels_last": median_ms(
            lambda: backward(grad_last, x_last, kernel_last, mask), repeats),
        "backward_channels_first": median_ms(
            lambda: backward(grad_first, x_first, kernel, mask), repeats),
        "backward_split": median_ms(split, repeats),
        "backward_from_copies": median_ms(lambda: backward(
            grad_last.contiguous(), x_last.contiguous(), kernel_last.contiguous(), mask),
            repeats),
        "forward_channels_last": median_ms(
            lambda: torch.nn.functional.conv2d(x_last, kernel_last, bias), repeats),
        "forward_channels_first": median_ms(
            lambda: torch.nn.functional.conv1d(x_first, kernel, bias), repeats),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    print(f"batch {args.batch}, {torch.get_num_threads()} threads, median ms of "
          f"{args.repeats} calls")
    with torch.no_grad():
        for channels, filters, length, input_grad in CONVOLUTIONS:
            times = measure(channels, filters, length, input_grad, args.batch, args.repeats)
            print(f"{channels:>4} -> {filters:<4} L {length:<5}"
                  + "  ".join(f"{name} {ms:.0f}" for name, ms in times.items()))


if __name__ == "__main__":
    main()
