"""skdeepsea's contribution scores against tangermeme's on identical weights (not in CI).

The DeepSEA network (its published geometry by default, random weights and biases drawn
by NumPy, so the same network on every backend) is
built with skdeepsea, its weights, sequences and dinucleotide-shuffled references are
written to an .npz file, and this script runs itself again in a peer virtual environment
holding PyTorch and tangermeme (``--peer``): there the same network is built as a
``torch.nn.Sequential`` (ReLU and MaxPool1d modules, which tangermeme's DeepLIFT rules
recognise), the weights loaded (channels-first, the dense layer's inputs reordered from
Keras' length-major flatten to PyTorch's channel-major one), and tangermeme's
``deep_lift_shap`` run with the same references, and gradient x input by
``torch.autograd``. Back here the scores are compared.

Usage::

    python3 -m venv /work/venv-peer
    /work/venv-peer/bin/pip install torch==2.13.0 && /work/venv-peer/bin/pip install tangermeme
    KERAS_BACKEND=jax python benchmarks/compare_tangermeme.py --peer-python /work/venv-peer/bin/python

With ``SKDEEPSEA_PEER_PYTHON`` set to that python, ``tests/test_attribution.py`` runs a small
comparison too (it skips otherwise). Prints one line per comparison: the largest absolute difference, that difference relative
to the largest absolute score, and the Pearson correlation; then the *borderline* units:
max-pooling inputs whose sequence-reference difference lies within a factor of 4 of the
rule's 1e-7 threshold (ReLU inputs that change sign within the rescale rule's 1e-6 of each
other are far rarer). At those float32 rounding (which differs between backends and libraries) decides which
branch of the rule applies, and the scores of the whole receptive field move with it: a
disagreement well above 1e-5 of the largest score with borderline units present is that,
not a wrong rule. ``--weights keras`` draws the weights with the backend's Keras
initializers instead (they differ between backends), ``--save-network`` /
``--network`` keep and reuse a network across backends.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np


def _network(args):
    """The DeepSEA network compared: loaded, or built with NumPy's (or Keras') weights."""
    import keras

    from skdeepsea.network import build_deepsea

    if args.float64:  # both sides compute in float64: rounding no longer picks a branch
        keras.config.set_floatx("float64")
    if args.network:
        return keras.saving.load_model(args.network, compile=False)
    filters = tuple(int(f) for f in args.conv_filters.split(","))
    network = build_deepsea(args.length, args.n_outputs, conv_filters=filters,
                            kernel_size=8, pool_size=4, fc_units=args.fc_units, seed=0)
    rng = np.random.default_rng(0)
    for layer in network.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and args.weights == "numpy":  # Glorot-uniform, as Keras draws
            limit = np.sqrt(6.0 / (np.prod(kernel.shape[:-1]) + kernel.shape[-1]
                                   * np.prod(kernel.shape[:-2])))
            kernel.assign(rng.uniform(-limit, limit, kernel.shape).astype(kernel.dtype))
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0, 0.05, layer.bias.shape).astype(layer.bias.dtype))
    if args.save_network:
        network.save(args.save_network)
    return network


def _borderline(network, X, refs):
    """Max-pooling inputs where float32 rounding can pick the rule's branch (see above)."""
    import keras

    pools = [layer.input for layer in network.layers
             if isinstance(layer, keras.layers.MaxPooling1D)]
    probe = keras.Model(network.inputs, pools)
    sequences = probe.predict(np.repeat(X, refs.shape[1], axis=0), verbose=0)
    references = probe.predict(refs.reshape(-1, *X.shape[1:]), verbose=0)
    return sum(int(((np.abs(a - b) > 0.25e-7) & (np.abs(a - b) < 4e-7)).sum())
               for a, b in zip(sequences, references))


def _skdeepsea_side(args, workdir):
    import keras

    from skdeepsea.attribution import attribute, dinucleotide_shuffle

    network = _network(args)
    args.length = network.inputs[0].shape[1]
    rng = np.random.default_rng(1)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (args.n_sequences, args.length))]
    refs = dinucleotide_shuffle(X, args.n_shuffles, random_state=1).astype(np.float32)

    results, timings = {}, {}
    for output in ("logit", "probability"):
        start = time.perf_counter()
        dls = attribute(network, X, targets=args.target, output=output, references=refs,
                        batch_size=args.batch_size)
        timings[f"deep_lift_shap_{output}"] = time.perf_counter() - start
        results[f"deep_lift_shap_{output}"] = dls.scores[:, 0]
        results[f"deltas_{output}"] = dls.deltas[:, 0]
    gxi = attribute(network, X, targets=args.target, method="gradient_x_input",
                    batch_size=args.batch_size)
    results["gradient_x_input_logit"] = gxi.scores[:, 0]

    weights = {}
    conv = [layer for layer in network.layers if isinstance(layer, keras.layers.Conv1D)]
    dense = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)]
    for i, layer in enumerate(conv):
        kernel, bias = (np.asarray(keras.ops.convert_to_numpy(w)) for w in layer.weights)
        weights[f"conv{i}_weight"] = kernel.transpose(2, 1, 0)  # (k, in, out) -> (out, in, k)
        weights[f"conv{i}_bias"] = bias
    feature_shape = conv[-1].output.shape[1:]  # (length, channels) before Flatten
    for i, layer in enumerate(dense):
        kernel, bias = (np.asarray(keras.ops.convert_to_numpy(w)) for w in layer.weights)
        if i == 0:  # Keras flattens (length, channels) length-major; PyTorch (channels, length)
            kernel = kernel.reshape(*feature_shape, -1).transpose(1, 0, 2).reshape(
                kernel.shape[0], -1)
        weights[f"dense{i}_weight"] = kernel.T
        weights[f"dense{i}_bias"] = bias
    path = os.path.join(workdir, "inputs.npz")
    np.savez(path, X=X.transpose(0, 2, 1), references=refs.transpose(0, 1, 3, 2),
             target=args.target, pool=4, float64=args.float64, **weights)
    timings["borderline"] = _borderline(network, X, refs)
    return path, results, timings


def _peer_side(inputs, outputs):
    import torch
    from tangermeme.deep_lift_shap import deep_lift_shap

    data = np.load(inputs)
    torch.manual_seed(0)
    layers = []
    n_conv = len([k for k in data.files if k.startswith("conv") and k.endswith("weight")])
    for i in range(n_conv):
        weight = torch.from_numpy(data[f"conv{i}_weight"])
        conv = torch.nn.Conv1d(weight.shape[1], weight.shape[0], weight.shape[2])
        conv.weight.data, conv.bias.data = weight, torch.from_numpy(data[f"conv{i}_bias"])
        layers += [conv, torch.nn.ReLU()]
        if i < n_conv - 1:
            layers.append(torch.nn.MaxPool1d(int(data["pool"]), int(data["pool"])))
        layers.append(torch.nn.Dropout(0.2))
    layers.append(torch.nn.Flatten())
    for i in range(2):
        weight = torch.from_numpy(data[f"dense{i}_weight"])
        dense = torch.nn.Linear(weight.shape[1], weight.shape[0])
        dense.weight.data, dense.bias.data = weight, torch.from_numpy(data[f"dense{i}_bias"])
        layers.append(dense)
        if i == 0:
            layers.append(torch.nn.ReLU())
    logits = torch.nn.Sequential(*layers).eval()
    if bool(data["float64"]):
        logits = logits.double()
    probability = torch.nn.Sequential(logits, torch.nn.Sigmoid()).eval()

    dtype = torch.float64 if bool(data["float64"]) else torch.float32
    X = torch.from_numpy(data["X"]).to(dtype)
    refs = torch.from_numpy(data["references"]).to(dtype)
    target = int(data["target"])
    results, timings = {}, {}
    for name, model in (("logit", logits), ("probability", probability)):
        start = time.perf_counter()
        scores = deep_lift_shap(model, X, target=target, references=refs, device="cpu",
                                batch_size=32)
        timings[f"deep_lift_shap_{name}"] = time.perf_counter() - start
        results[f"deep_lift_shap_{name}"] = scores.numpy().transpose(0, 2, 1)
    x = X.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(logits(x)[:, target].sum(), x)
    results["gradient_x_input_logit"] = (gradient * X).numpy().transpose(0, 2, 1)
    np.savez(outputs, **results)
    with open(outputs + ".json", "w") as f:
        json.dump(timings, f)


def build_parser():
    """The script's options (also used by tests/test_attribution.py)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", default="/work/venv-peer/bin/python",
                        help="python of the environment with torch and tangermeme")
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--conv-filters", default="320,480,960")
    parser.add_argument("--fc-units", type=int, default=925)
    parser.add_argument("--n-outputs", type=int, default=919)
    parser.add_argument("--n-sequences", type=int, default=4)
    parser.add_argument("--n-shuffles", type=int, default=10)
    parser.add_argument("--target", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--weights", choices=("numpy", "keras"), default="numpy",
                        help="draw the kernels with NumPy (the same on every backend) or with "
                             "the backend's Keras initializers")
    parser.add_argument("--float64", action="store_true",
                        help="both sides in float64 (Keras floatx, torch .double())")
    parser.add_argument("--save-network", metavar="PATH",
                        help="save the network compared (.keras), to reuse on another backend")
    parser.add_argument("--network", metavar="PATH",
                        help="compare this saved .keras network instead of building one")
    parser.add_argument("--peer", nargs=2, metavar=("INPUTS", "OUTPUTS"),
                        help=argparse.SUPPRESS)
    return parser


def compare(args):
    """Run both sides; return ``{name: (max abs difference, relative, pearson)}``, the
    completeness errors and the timings (with the count of borderline units)."""
    with tempfile.TemporaryDirectory() as workdir:
        inputs, ours, our_times = _skdeepsea_side(args, workdir)
        outputs = os.path.join(workdir, "peer.npz")
        subprocess.run([args.peer_python, os.path.abspath(__file__), "--peer", inputs,
                        outputs], check=True)
        theirs = dict(np.load(outputs))
        with open(outputs + ".json") as f:
            their_times = json.load(f)
    agreement = {}
    for name, reference in theirs.items():
        difference = float(np.abs(ours[name] - reference).max())
        agreement[name] = (difference, difference / float(np.abs(reference).max()),
                           float(np.corrcoef(ours[name].ravel(), reference.ravel())[0, 1]))
    completeness = {output: float(np.abs(ours[f"deltas_{output}"]).max())
                    for output in ("logit", "probability")}
    return agreement, completeness, (our_times, their_times)


def main():
    args = build_parser().parse_args()
    if args.peer:
        _peer_side(*args.peer)
        return
    if args.float64:  # JAX computes in float32 unless told before it is imported
        os.environ.setdefault("JAX_ENABLE_X64", "1")

    import keras

    agreement, completeness, (our_times, their_times) = compare(args)
    print(f"DeepSEA geometry: {args.length} bp, filters {args.conv_filters}, "
          f"{args.fc_units} hidden, {args.n_outputs} outputs ({args.network or args.weights + ' weights'}); "
          f"{args.n_sequences} sequences x {args.n_shuffles} shuffles, target {args.target}; "
          f"skdeepsea on {keras.backend.backend()}")
    for name, (difference, relative, r) in agreement.items():
        line = (f"{name:28s} max |diff| {difference:.2e}  relative {relative:.2e}"
                f"  pearson {r:.8f}")
        if name in our_times:
            line += f"  time skdeepsea {our_times[name]:.1f} s, tangermeme {their_times[name]:.1f} s"
        print(line)
    for output, error in completeness.items():
        print(f"completeness ({output}): max |sum - output difference| {error:.2e}")
    print(f"borderline max-pooling inputs (|x - x0| within 4x of 1e-7): "
          f"{our_times['borderline']}")


if __name__ == "__main__":
    main()
